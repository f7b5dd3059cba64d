// What makes two screenshots of the same page differ when the page has not changed: run ids,
// the clock, the dev server's port, and how long each attempt happened to take. `normalize`
// runs in the page before a screenshot and puts the demo on a fixed clock and fixed ids;
// `volatile: true` also blanks what real execution times decide (durations, timeline bars,
// charts), for the picture whose hash says whether the page changed.

/** The fixed clock's reading at the moment the demo began seeding. */
export const fixedStart = Date.UTC(2026, 0, 15, 9, 30, 0);

/** In the page: rewrites text, form values and (with `volatile`) hides time-drawn graphics. */
function normalizeInPage(options) {
  const { ids, origin, fixedOrigin, start, fixed, volatile, sortRows } = options;
  const minute = 60_000;
  // Whole minutes after the seeding began: everything the demo does happens within its first one.
  const shift = (ms) => fixed + Math.floor((ms - start) / minute) * minute;
  const shown = (ms) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
  // A year and more either way: retention puts a run's deletion months after its end.
  const near = (ms) => Number.isFinite(ms) && Math.abs(ms - start) < 400 * 86_400_000;
  const rewrite = (value) => {
    let out = value;
    for (const [real, stable] of ids) out = out.split(real).join(stable);
    out = out.split(origin).join(fixedOrigin);
    out = out.replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/g, (match) => {
      const ms = Date.parse(`${match.slice(0, 10)}T${match.slice(11, 19)}Z`);
      return near(ms) ? shown(shift(ms)) : match;
    });
    out = out.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, (match) => {
      const ms = Date.parse(match);
      return near(ms) ? new Date(shift(ms)).toISOString() : match;
    });
    out = out.replace(/\b1\d{12}\b/g, (match) => (near(Number(match)) ? String(shift(Number(match))) : match));
    // A duration, units and all ("4 ms", "1.25 s", "2 min 5 s"): its unit changes with it.
    if (volatile) out = out.replace(/\b\d+(\.\d+)? (ms|s|min|h|d)( \d+(\.\d+)? (s|min|h))?\b/g, "#");
    return out;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const next = rewrite(node.nodeValue ?? "");
    if (next !== node.nodeValue) node.nodeValue = next;
  }
  for (const field of document.querySelectorAll("textarea, input")) {
    if (field.type === "hidden") continue;
    const next = rewrite(field.value);
    if (next !== field.value) field.value = next;
  }
  if (volatile) {
    for (const graphic of document.querySelectorAll(".bars svg, svg.chart")) graphic.style.visibility = "hidden";
    // Tables ordered by a measured time (the metrics' steps by p95): compared in a fixed order.
    if (sortRows) {
      for (const body of document.querySelectorAll("tbody")) {
        const rows = [...body.rows].sort((a, b) => a.textContent.localeCompare(b.textContent));
        for (const row of rows) body.appendChild(row);
      }
    }
  }
}

/**
 * Real run ids to fixed ones, in the order given (same length, so nothing reflows), and the
 * server's origin to a fixed one.
 */
export function normalizer(page, { runIds, origin, start, sortRows = false }) {
  const ids = runIds.map((runId, index) => [runId, `run_01demo${String(index + 1).padStart(21, "0")}`]);
  const fixedOrigin = "http://127.0.0.1:8787";
  return (volatile) =>
    page.evaluate(normalizeInPage, { ids, origin, fixedOrigin, start, fixed: fixedStart, volatile, sortRows });
}

/** Fingerprint cells are this many pixels square. */
const cell = 16;
/** Grey levels two fingerprints may differ by in a cell and still be the same picture. */
const tolerance = 3;

/**
 * A picture's fingerprint: its size and the mean grey of every 16x16 cell, base64. Rasterizing
 * the same page twice can differ by a level or two in a few pixels; a changed word or digit
 * moves its cell's mean by far more.
 */
export async function fingerprint(helper, png) {
  return helper.evaluate(
    async ({ src, size }) => {
      const image = new Image();
      await new Promise((resolve, reject) => {
        image.onload = resolve;
        image.onerror = reject;
        image.src = src;
      });
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d");
      context.drawImage(image, 0, 0);
      const { data } = context.getImageData(0, 0, image.width, image.height);
      const columns = Math.ceil(image.width / size);
      const rows = Math.ceil(image.height / size);
      const sums = new Float64Array(columns * rows);
      const counts = new Float64Array(columns * rows);
      for (let y = 0; y < image.height; y++) {
        for (let x = 0; x < image.width; x++) {
          const at = (y * image.width + x) * 4;
          const index = Math.floor(y / size) * columns + Math.floor(x / size);
          sums[index] += 0.299 * data[at] + 0.587 * data[at + 1] + 0.114 * data[at + 2];
          counts[index] += 1;
        }
      }
      let text = "";
      for (let index = 0; index < sums.length; index++)
        text += String.fromCharCode(Math.round(sums[index] / counts[index]));
      return { width: image.width, height: image.height, cells: btoa(text) };
    },
    { src: `data:image/png;base64,${png.toString("base64")}`, size: cell },
  );
}

/** The same picture, give or take rasterizing noise. */
export function samePicture(before, after) {
  if (!before || before.width !== after.width || before.height !== after.height) return false;
  const a = Buffer.from(before.cells, "base64");
  const b = Buffer.from(after.cells, "base64");
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (Math.abs(a[index] - b[index]) > tolerance) return false;
  return true;
}
