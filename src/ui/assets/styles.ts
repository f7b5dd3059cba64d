/**
 * The dashboard's one stylesheet, served from /ui/assets/ (the CSP allows no inline styles).
 * Status colours are shared by badges, graph nodes and timeline bars through `.s-<status>`.
 */
export const stylesheet = `
:root{--ink:#1b1f24;--muted:#56606b;--line:#d8dde3;--bg:#f4f6f8;--card:#fff;--accent:#1f4e8c;--focus:#f0b400;
--pending:#6b7480;--running:#1f6feb;--waiting:#7a4cc2;--needs_review:#a15c00;--success:#1a7f37;--failed:#c62828;
--cancelled:#4a4f55;--paused:#b35900;--skipped:#8c959f}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.45;color:var(--ink);background:var(--bg)}
body{margin:0;min-height:100vh;display:flex;flex-direction:column}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.4rem .8rem;z-index:10}
.topbar{background:#14213d;color:#fff;display:flex;align-items:center;gap:1.5rem;padding:.55rem 1.25rem;flex-wrap:wrap}
.brand{font-weight:700;font-size:1.1rem;color:#fff;text-decoration:none;letter-spacing:.02em}
.topbar nav{flex:1}
.nav{display:flex;gap:.25rem;flex-wrap:wrap;margin:0;padding:0;list-style:none}
.nav a{color:#d7e1f0;text-decoration:none;padding:.35rem .65rem;border-radius:4px;display:block}
.nav a:hover{background:#22335a;color:#fff}
.nav a[aria-current=page]{background:#fff;color:#14213d;font-weight:600}
.signout{margin:0}
.signout button{background:transparent;color:#d7e1f0;border:1px solid #51617f;padding:.3rem .7rem}
.signout button:hover{color:#fff;border-color:#fff}
main{flex:1;width:100%;max-width:80rem;margin:0 auto;padding:1.25rem}
footer{color:var(--muted);font-size:.8rem;text-align:center;padding:1rem}
h1{font-size:1.45rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .6rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
.card>h2:first-child,.card>h1:first-child{margin-top:.1rem}
.narrow{max-width:26rem;margin:3rem auto}
.note,.muted{color:var(--muted);font-size:.9rem}
.error{color:var(--failed);font-weight:600}
.mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:.75rem;overflow:auto;max-height:28rem;margin:.4rem 0}
label{font-weight:600;display:block;margin:.5rem 0 .2rem;font-size:.9rem}
input,select,textarea{font:inherit;padding:.4rem .5rem;border:1px solid #8a939e;border-radius:4px;background:#fff;color:var(--ink);max-width:100%}
textarea{width:100%;min-height:8rem}
textarea.short{min-height:3.5rem}
button,.button{font:inherit;padding:.45rem 1rem;border-radius:4px;border:1px solid var(--ink);background:#fff;color:var(--ink);cursor:pointer;text-decoration:none;display:inline-block}
button.primary,.button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger,.button.danger{background:var(--failed);border-color:var(--failed);color:#fff}
.actions{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;margin:.75rem 0}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.25rem 1rem;align-items:end}
.filters input,.filters select{width:100%}
.filters .actions{grid-column:1/-1;margin:.5rem 0 0}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.counts a{display:flex;gap:.4rem;align-items:center;padding:.25rem .6rem;border:1px solid var(--line);border-radius:999px;background:#fff;text-decoration:none;color:var(--ink);font-size:.88rem}
.counts a[aria-current=true]{border-color:var(--ink);font-weight:600}
.table-wrap{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px;margin-bottom:1rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:#fafbfc}
tbody tr:last-child td{border-bottom:0}
caption{text-align:left;padding:.5rem .75rem;color:var(--muted)}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.8rem;font-weight:600;color:#fff;background:var(--pending);white-space:nowrap}
.badge.s-pending{background:var(--pending)}.badge.s-queued{background:var(--pending)}.badge.s-running{background:var(--running)}.badge.s-waiting{background:var(--waiting)}
.badge.s-needs_review{background:var(--needs_review)}.badge.s-success{background:var(--success)}.badge.s-failed{background:var(--failed)}
.badge.s-cancelled{background:var(--cancelled)}.badge.s-paused{background:var(--paused)}.badge.s-skipped{background:#fff;color:var(--ink);border:1px dashed var(--skipped)}
.pager{display:flex;justify-content:space-between;align-items:center;margin:.75rem 0}
.empty{text-align:center;padding:2rem 1rem}
.empty pre{text-align:left;display:inline-block;max-width:100%}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{color:var(--muted);font-size:.88rem}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.run-head{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin-bottom:.75rem}
.run-head h1{margin:0;overflow-wrap:anywhere;font-size:1.2rem}
.grid-2{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1rem;align-items:start;margin-bottom:1rem}
.pick{width:1%;padding-right:0}
.pick-label{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media (max-width:900px){.grid-2{grid-template-columns:minmax(0,1fr)}}
.graph{overflow:auto;background:#fff;border:1px solid var(--line);border-radius:8px;padding:.5rem;max-height:36rem}
.graph svg{display:block;margin:0 auto}
.graph .node rect{fill:#fff;stroke:var(--pending);stroke-width:2}
.graph .node text{font-size:12px;fill:var(--ink)}
.graph .node .type{fill:var(--muted);font-size:10px}
.graph .node.s-running rect{stroke:var(--running);fill:#eaf2fe}
.graph .node.s-waiting rect{stroke:var(--waiting);fill:#f3eefb}
.graph .node.s-needs_review rect{stroke:var(--needs_review);fill:#fdf3e3}
.graph .node.s-success rect{stroke:var(--success);fill:#e9f6ec}
.graph .node.s-failed rect{stroke:var(--failed);fill:#fdecec}
.graph .node.s-cancelled rect{stroke:var(--cancelled);fill:#eef0f2}
.graph .node.s-paused rect{stroke:var(--paused);fill:#fdf0e6}
.graph .node.s-skipped rect{stroke:var(--skipped);stroke-dasharray:4 3;fill:#fafbfc}
.graph .node.s-skipped text{fill:var(--muted)}
.graph .node.selected rect{stroke-width:4}
.graph a:focus-visible rect{stroke:var(--focus);stroke-width:4}
.graph .edge{fill:none;stroke:#8a939e;stroke-width:1.5}
.graph .edge.taken{stroke:var(--success);stroke-width:2.5}
.graph .edge.skipped{stroke:#b8c0c8;stroke-dasharray:5 4}
.graph .arrow{fill:#8a939e}
.legend{display:flex;flex-wrap:wrap;gap:.4rem;margin:.5rem 0 0;padding:0;list-style:none;font-size:.8rem}
.timeline td.bars{width:55%;min-width:12rem}
.timeline svg{display:block;width:100%;height:18px}
.timeline .bar{fill:var(--pending)}
.timeline .bar.o-success{fill:var(--success)}.timeline .bar.o-failure{fill:var(--failed)}
.timeline .bar.o-running{fill:var(--running)}.timeline .bar.o-await-review,.timeline .bar.o-escalated{fill:var(--needs_review)}
.timeline .bar.o-await-event,.timeline .bar.o-sleep,.timeline .bar.o-await-children{fill:var(--waiting)}
.timeline .bar.o-cancelled,.timeline .bar.o-interrupted{fill:var(--cancelled)}
.timeline .gap{stroke:#b8c0c8;stroke-width:2;stroke-dasharray:2 2}
.timeline tr.selected td{background:#f0f5fc}
.timeline .step-link{font-weight:600}
.diff .add{color:var(--success)}.diff .remove{color:var(--failed)}.diff .replace{color:var(--needs_review)}
.card dd,[data-triggers] code{overflow-wrap:anywhere}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.75rem;margin-bottom:.5rem}
.figures .card{margin:0;padding:.6rem .9rem}
.figure-value{font-size:1.35rem;font-weight:600}
.chart{display:block;width:100%;height:auto}
.chart .axis line{stroke:#e3e7ec}
.chart .axis text{font-size:11px;fill:var(--muted)}
.chart .bar{fill:var(--pending)}
.chart .bar.value{fill:var(--accent)}
.chart .bar.s-queued{fill:var(--pending)}.chart .bar.s-running{fill:var(--running)}.chart .bar.s-waiting{fill:var(--waiting)}.chart .bar.s-needs_review{fill:var(--needs_review)}
.chart .bar.s-success{fill:var(--success)}.chart .bar.s-failed{fill:var(--failed)}.chart .bar.s-cancelled{fill:var(--cancelled)}.chart .bar.s-paused{fill:var(--paused)}
.confirm{border-left:4px solid var(--needs_review)}
.flash{padding:.6rem .9rem;border-radius:6px;margin-bottom:1rem;border:1px solid}
.flash.ok{background:#e9f6ec;border-color:var(--success)}
.flash.bad{background:#fdecec;border-color:var(--failed)}
@media (max-width:640px){
main{padding:.75rem}
.topbar{gap:.4rem;padding:.5rem .75rem}
.brand{flex:1}
.topbar nav{order:3;flex-basis:100%}
.nav a{padding:.3rem .45rem;font-size:.92rem;white-space:nowrap}
.filters{grid-template-columns:repeat(2,minmax(0,1fr))}
td a.mono{word-break:break-all;font-size:.8rem}
.stack-narrow thead{display:none}
.stack-narrow tr{display:block;border-bottom:1px solid var(--line)}
.stack-narrow td{display:block;border:0;padding:.3rem .6rem}
th,td{padding:.4rem .5rem}
.hide-narrow{display:none}
dl.facts{grid-template-columns:1fr}
}
`;
