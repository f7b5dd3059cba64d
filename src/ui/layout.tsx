import type { Child } from "hono/jsx";

const styles = `
body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;background:#f6f7f9;color:#1b1f24}
main{max-width:44rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #d8dde3;border-radius:8px}
h1{font-size:1.4rem;margin-top:0}
table{border-collapse:collapse;margin:1rem 0}
caption{text-align:left}
th,td{text-align:left;padding:.3rem .8rem .3rem 0;vertical-align:top}
th{font-weight:600}
label{display:block;font-weight:600;margin-top:1rem}
input[type=text],input[type=number],textarea,select{width:100%;box-sizing:border-box;padding:.4rem;font:inherit;border:1px solid #8a939e;border-radius:4px}
textarea{min-height:5rem}
.actions{margin-top:1.5rem;display:flex;gap:.8rem;flex-wrap:wrap}
button{font:inherit;padding:.55rem 1.2rem;border-radius:4px;border:1px solid #1b1f24;background:#fff;cursor:pointer}
button.primary{background:#1f4e8c;border-color:#1f4e8c;color:#fff}
button.danger{background:#a4262c;border-color:#a4262c;color:#fff}
button:focus-visible,input:focus-visible,textarea:focus-visible,select:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.note{color:#4a535e;font-size:.92rem}
.error{color:#a4262c;font-weight:600}
.body{border-left:3px solid #d8dde3;padding-left:1rem;margin:1rem 0;white-space:pre-wrap}
.body.html{white-space:normal}
`;

/** A plain page: no scripts, no external assets, readable without styles. */
export function Layout(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${props.title} · Signalbox`}</title>
        <style>{styles}</style>
      </head>
      <body>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
