/**
 * Plain-text output: columns padded with spaces (no box drawing), so tables stay readable in
 * any terminal and can be cut with awk; `--json` is there for programs.
 */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** A duration in the largest unit that keeps it short: 850ms, 4.2s, 3m 10s, 2h 5m, 3d 4h. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1).replace(/\.0$/, "")}s`;
  const parts: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "m"],
    [1_000, "s"],
  ];
  const index = parts.findIndex(([size]) => ms >= size);
  const [big, bigUnit] = parts[index] as [number, string];
  const [small, smallUnit] = parts[index + 1] as [number, string];
  const whole = Math.floor(ms / big);
  const rest = Math.floor((ms - whole * big) / small);
  return rest === 0 ? `${whole}${bigUnit}` : `${whole}${bigUnit} ${rest}${smallUnit}`;
}

/** A moment as local `YYYY-MM-DD HH:MM:SS`, the way a terminal user reads it next to their clock. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  const date = new Date(ms);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** `+1.2s` from a start; `-` when either end is unknown. */
export function formatOffset(ms: number | null | undefined, from: number | null | undefined): string {
  if (ms === null || ms === undefined || from === null || from === undefined) return "-";
  return `+${formatDuration(ms - from)}`;
}

/** An error as `code: message`, whatever shape it came in. */
export function formatError(error: unknown): string {
  if (error === null || error === undefined) return "";
  if (typeof error === "string") return error;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && typeof message === "string") return `${code}: ${message}`;
  if (typeof message === "string") return message;
  return JSON.stringify(error);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
