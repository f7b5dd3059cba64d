/**
 * Wall-clock time in an IANA time zone, through `Intl` (which Workers and Node both ship with
 * the tz database). "Local ms" is a wall-clock reading encoded as if it were UTC, so calendar
 * arithmetic on it is plain `Date.UTC` arithmetic.
 */

const utcZones = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Z"]);
const formatters = new Map<string, Intl.DateTimeFormat>();
const dayMs = 86_400_000;

export function isUtc(zone: string | undefined): boolean {
  return zone === undefined || utcZones.has(zone);
}

/** Whether the runtime knows `zone` as an IANA time zone name. */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, format);
  }
  return format;
}

/** The zone's offset from UTC at `instant`, in ms (positive east of Greenwich). */
export function offsetAt(zone: string | undefined, instant: number): number {
  if (isUtc(zone)) return 0;
  const parts: Record<string, number> = {};
  for (const part of formatter(zone as string).formatToParts(new Date(instant))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const local = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    (parts.hour ?? 0) % 24,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return local - Math.floor(instant / 1000) * 1000;
}

export function toLocal(zone: string | undefined, instant: number): number {
  return instant + offsetAt(zone, instant);
}

/**
 * The instant a wall-clock reading names. A reading that occurs twice (clocks turned back)
 * is its earlier occurrence; one that never occurs (clocks turned forward) is shifted forward
 * by the gap, so 02:30 on a spring-forward night is 03:30. (Temporal calls this the
 * "compatible" disambiguation.)
 */
export function fromLocal(zone: string | undefined, local: number): number {
  if (isUtc(zone)) return local;
  const before = offsetAt(zone, local - dayMs);
  const after = offsetAt(zone, local + dayMs);
  const valid = [local - before, local - after].filter((instant) => toLocal(zone, instant) === local);
  if (valid.length > 0) return Math.min(...valid);
  return local - before;
}
