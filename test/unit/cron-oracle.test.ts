import { Cron as Croner } from "croner";
import { describe, expect, it } from "vitest";
import { nextTick, parseCron } from "../../src/lib/cron";

/**
 * Cross-checks src/lib/cron.ts against croner, an independent, widely used cron library,
 * on the part of Cloudflare's dialect the two share: croner with Quartz weekday numbering
 * (1 = Sunday) and Vixie's either-day-field rule. Wrapping ranges, `L-n` and a lone `L` in
 * day-of-week are Cloudflare's and croner rejects them; those have their own tests.
 */

/** A small deterministic PRNG, so a failure names a reproducible seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]) => items[int(0, items.length - 1)] as T;
  return { next, int, pick };
}

type Rng = ReturnType<typeof random>;

function field(rng: Rng, min: number, max: number, names?: readonly string[]): string {
  const value = () => {
    const number = rng.int(min, max);
    return names && rng.next() < 0.3 ? (names[number - min] as string) : String(number);
  };
  switch (rng.int(0, 6)) {
    case 0:
      return "*";
    case 1:
      return value();
    case 2:
      return [value(), value(), value()].join(",");
    case 3: {
      const a = rng.int(min, max - 1);
      return `${a}-${rng.int(a + 1, max)}`;
    }
    case 4:
      return `*/${rng.int(1, Math.min(max - min, 15))}`;
    case 5: {
      const a = rng.int(min, max - 1);
      return `${a}-${rng.int(a + 1, max)}/${rng.int(1, 4)}`;
    }
    default:
      return String(rng.int(min, max));
  }
}

const weekdays = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

function expression(rng: Rng): string {
  const minute = rng.next() < 0.5 ? String(rng.int(0, 59)) : field(rng, 0, 59);
  const hour = field(rng, 0, 23);
  const dom = rng.next() < 0.15 ? rng.pick(["L", "LW", `${rng.int(1, 28)}W`]) : field(rng, 1, 31);
  const month = rng.next() < 0.6 ? "*" : field(rng, 1, 12, months);
  const dow =
    rng.next() < 0.2
      ? rng.pick([`${rng.int(1, 7)}L`, `${rng.int(1, 7)}#${rng.int(1, 5)}`])
      : field(rng, 1, 7, weekdays);
  return [minute, hour, dom, month, rng.next() < 0.4 ? "*" : dow].join(" ");
}

function oracle(source: string, zone: string, from: number, count: number): string[] | undefined {
  try {
    const job = new Croner(source, { timezone: zone, alternativeWeekdays: true, legacyMode: true });
    return job.nextRuns(count, new Date(from)).map((date) => date.toISOString());
  } catch {
    return undefined;
  }
}

function ours(source: string, zone: string, from: number, count: number): string[] {
  const parsed = parseCron(source);
  if (!parsed.ok) throw new Error(`${source}: ${parsed.error}`);
  const out: string[] = [];
  let cursor = from;
  for (let index = 0; index < count; index++) {
    const next = nextTick(parsed.cron, zone, cursor);
    if (next === undefined) break;
    out.push(new Date(next).toISOString());
    cursor = next;
  }
  return out;
}

describe("cron against croner", () => {
  for (const zone of ["UTC", "Asia/Kolkata", "Asia/Tokyo"]) {
    it(`agrees on 400 random expressions in ${zone}`, () => {
      const rng = random(20250101 + zone.length);
      let compared = 0;
      for (let round = 0; round < 400; round++) {
        const source = expression(rng);
        const from = Date.UTC(2024, 0, 1) + rng.int(0, 3 * 365 * 24 * 60) * 60_000 + rng.int(0, 59_999);
        const expected = oracle(source, zone, from, 5);
        if (!expected) continue;
        compared++;
        expect({ source, from: new Date(from).toISOString(), ticks: ours(source, zone, from, 5) }).toEqual({
          source,
          from: new Date(from).toISOString(),
          ticks: expected,
        });
      }
      // The generator stays inside croner's syntax; nearly every expression is compared.
      expect(compared).toBeGreaterThan(380);
    });
  }
});
