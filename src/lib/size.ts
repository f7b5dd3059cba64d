const units: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1_024,
  mib: 1_048_576,
  gib: 1_073_741_824,
};
const pattern = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/;

/** Parses `65536`, `64KiB`, `10MiB`, `5MB` (case-insensitive) into bytes; undefined when malformed. */
export function parseByteSize(text: string): number | undefined {
  const match = pattern.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const [, amount, unit = ""] = match;
  const factor = units[unit];
  if (factor === undefined) return undefined;
  return Math.round(Number(amount) * factor);
}

/** A setting given as a size string, or the default when unset; malformed settings fall back too. */
export function byteSizeSetting(value: unknown, fallback: number): number {
  if (typeof value !== "string" || value.trim() === "") return fallback;
  const parsed = parseByteSize(value);
  return parsed === undefined || parsed <= 0 ? fallback : parsed;
}

/** `5242880` -> `5 MiB`, for error messages people read. */
export function formatBytes(bytes: number): string {
  if (bytes < 1_024) return `${bytes} B`;
  if (bytes < 1_048_576) return `${(bytes / 1_024).toFixed(1).replace(/\.0$/, "")} KiB`;
  return `${(bytes / 1_048_576).toFixed(2).replace(/\.?0+$/, "")} MiB`;
}
