/**
 * Cron expressions in Cloudflare's dialect (the one Cron Triggers accept): five fields,
 * minute hour day-of-month month day-of-week, where
 *
 * - weekdays run 1-7 with 1 = Sunday (Quartz numbering, not Vixie's 0-6), or SUN-SAT;
 * - months are 1-12 or JAN-DEC; names are case-insensitive;
 * - every field takes `*`, lists `a,b`, ranges `a-b` (a range may wrap: `FRI-SUN`, `50-10`),
 *   and steps `*​/n`, `a/n`, `a-b/n`;
 * - day-of-month also takes `L` (last day), `L-n` (n days before the last), `LW` (last
 *   weekday), `L-nW`, and `nW` (the weekday nearest day n, never leaving the month);
 * - day-of-week also takes `dL` (the month's last d), `d#n` (its n-th d, n 1-5) and a lone
 *   `L` (Saturday, the last day of the week);
 * - when both day fields are restricted a day matching either one matches (as in Vixie cron
 *   and Cloudflare's own parser); an unrestricted field is only a literal `*`.
 *
 * The grammar follows Cloudflare's parser (the `saffron` crate): `L`, `W` and `#` forms stand
 * alone in their field, `?` and six-field expressions are rejected.
 */

import { fromLocal, isTimeZone, toLocal } from "./time-zone";

export type CronParse = { ok: true; cron: Cron } | { ok: false; error: string };

export interface Cron {
  source: string;
  minutes: readonly boolean[];
  hours: readonly boolean[];
  /** Index 1-12. */
  months: readonly boolean[];
  dom: DayOfMonth;
  dow: DayOfWeek;
}

type DayOfMonth =
  | { kind: "any" }
  /** Index 1-31. */
  | { kind: "days"; days: readonly boolean[] }
  /** `L` (offset 0) and `L-n`. */
  | { kind: "last"; offset: number }
  /** `LW` (offset 0) and `L-nW`. */
  | { kind: "lastWeekday"; offset: number }
  /** `nW`. */
  | { kind: "nearestWeekday"; day: number };

type DayOfWeek =
  | { kind: "any" }
  /** Index 0-6, Sunday first (JavaScript's getUTCDay). */
  | { kind: "days"; days: readonly boolean[] }
  | { kind: "last"; weekday: number }
  | { kind: "nth"; weekday: number; nth: number };

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] as const;
const weekdayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;

const fields = {
  minute: { name: "minute", min: 0, max: 59 },
  hour: { name: "hour", min: 0, max: 23 },
  dom: { name: "day-of-month", min: 1, max: 31 },
  month: { name: "month", min: 1, max: 12, names: monthNames },
  dow: { name: "day-of-week", min: 1, max: 7, names: weekdayNames },
} as const satisfies Record<string, FieldSpec>;

class CronSyntaxError extends Error {}

function syntax(message: string): never {
  throw new CronSyntaxError(message);
}

export function parseCron(source: string): CronParse {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === "") {
    return {
      ok: false,
      error: `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts[0] === "" ? 0 : parts.length}`,
    };
  }
  const [minute, hour, dom, month, dow] = parts as [string, string, string, string, string];
  try {
    return {
      ok: true,
      cron: {
        source: parts.join(" "),
        minutes: parseList(minute, fields.minute),
        hours: parseList(hour, fields.hour),
        dom: parseDayOfMonth(dom),
        months: parseList(month, fields.month),
        dow: parseDayOfWeek(dow),
      },
    };
  } catch (thrown) {
    if (thrown instanceof CronSyntaxError) return { ok: false, error: thrown.message };
    throw thrown;
  }
}

function parseValue(text: string, spec: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      const hint = spec === fields.dow ? " (1 = Sunday ... 7 = Saturday, or SUN-SAT)" : "";
      syntax(`${spec.name} value ${text} is outside ${spec.min}-${spec.max}${hint}`);
    }
    return value;
  }
  const index = spec.names?.indexOf(text.toUpperCase() as never) ?? -1;
  if (index === -1) syntax(`${spec.name}: "${text}" is not a value`);
  return index + spec.min;
}

/** A list of values, ranges and steps; returns a table indexed by value. */
function parseList(text: string, spec: FieldSpec): boolean[] {
  const table = new Array<boolean>(spec.max + 1).fill(false);
  if (text === "*") {
    for (let value = spec.min; value <= spec.max; value++) table[value] = true;
    return table;
  }
  for (const item of text.split(",")) {
    const match = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item);
    if (!match) syntax(`${spec.name}: "${item}" is not a value, range or step`);
    const first = match[1] ?? "";
    const last = match[2];
    const stepText = match[3];
    if (first === "*" && last !== undefined) syntax(`${spec.name}: "${item}" ranges from *`);
    if (first === "*" && stepText === undefined) syntax(`${spec.name}: * cannot be part of a list`);
    const start = first === "*" ? spec.min : parseValue(first, spec);
    const end = last !== undefined ? parseValue(last, spec) : stepText !== undefined ? spec.max : start;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1 || step > spec.max - spec.min) {
      syntax(`${spec.name}: step ${stepText} is outside 1-${spec.max - spec.min}`);
    }
    // A range that runs past the maximum wraps around to the minimum (FRI-SUN, 22-2).
    const sequence: number[] = [];
    if (start <= end) for (let value = start; value <= end; value++) sequence.push(value);
    else {
      for (let value = start; value <= spec.max; value++) sequence.push(value);
      for (let value = spec.min; value <= end; value++) sequence.push(value);
    }
    for (let index = 0; index < sequence.length; index += step) table[sequence[index] as number] = true;
  }
  return table;
}

function parseDayOfMonth(text: string): DayOfMonth {
  if (text === "*") return { kind: "any" };
  if (text === "L") return { kind: "last", offset: 0 };
  if (text === "LW") return { kind: "lastWeekday", offset: 0 };
  const last = /^L-(\d+)(W?)$/.exec(text);
  if (last) {
    const offset = Number(last[1]);
    if (offset < 1 || offset > 30) syntax(`day-of-month: L-${last[1]} needs an offset from 1 to 30`);
    return { kind: last[2] ? "lastWeekday" : "last", offset };
  }
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) return { kind: "nearestWeekday", day: parseValue(nearest[1] as string, fields.dom) };
  if (/[LW#]/.test(text)) syntax(`day-of-month: "${text}" mixes L or W with other values`);
  return { kind: "days", days: parseList(text, fields.dom) };
}

function parseDayOfWeek(text: string): DayOfWeek {
  if (text === "*") return { kind: "any" };
  // A lone L is the last day of the week.
  if (text === "L") return { kind: "days", days: weekdays([7]) };
  const last = /^([A-Za-z0-9]+)L$/.exec(text);
  if (last) return { kind: "last", weekday: parseValue(last[1] as string, fields.dow) - 1 };
  const nth = /^([A-Za-z0-9]+)#(\d+)$/.exec(text);
  if (nth) {
    const n = Number(nth[2]);
    if (n < 1 || n > 5) syntax(`day-of-week: #${nth[2]} must be from 1 to 5`);
    return { kind: "nth", weekday: parseValue(nth[1] as string, fields.dow) - 1, nth: n };
  }
  const table = parseList(text, fields.dow);
  return { kind: "days", days: weekdays(table.flatMap((on, value) => (on ? [value] : []))) };
}

/** Cron weekdays 1-7 (1 = Sunday) to a table indexed 0-6 like getUTCDay. */
function weekdays(values: number[]): boolean[] {
  const table = new Array<boolean>(7).fill(false);
  for (const value of values) table[value - 1] = true;
  return table;
}

// ---- matching days -------------------------------------------------------------------------

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The weekday nearest `day` without leaving the month (Quartz's `W`). */
function nearestWeekday(year: number, month: number, day: number, last: number): number {
  const weekday = weekdayOf(year, month, day);
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === last ? day - 2 : day + 1;
  return day;
}

function domMatches(rule: DayOfMonth, year: number, month: number, day: number): boolean {
  const last = daysInMonth(year, month);
  switch (rule.kind) {
    case "any":
      return true;
    case "days":
      return rule.days[day] === true;
    case "last":
      return day === last - rule.offset;
    case "lastWeekday": {
      const target = last - rule.offset;
      return target >= 1 && day === nearestWeekday(year, month, target, last);
    }
    case "nearestWeekday":
      return rule.day <= last && day === nearestWeekday(year, month, rule.day, last);
  }
}

function dowMatches(rule: DayOfWeek, year: number, month: number, day: number): boolean {
  const weekday = weekdayOf(year, month, day);
  switch (rule.kind) {
    case "any":
      return true;
    case "days":
      return rule.days[weekday] === true;
    case "last":
      return weekday === rule.weekday && day + 7 > daysInMonth(year, month);
    case "nth":
      return weekday === rule.weekday && Math.floor((day - 1) / 7) + 1 === rule.nth;
  }
}

/** Whether the cron fires on this calendar day (month 1-12). */
export function matchesDay(cron: Cron, year: number, month: number, day: number): boolean {
  if (!cron.months[month]) return false;
  const domAny = cron.dom.kind === "any";
  const dowAny = cron.dow.kind === "any";
  if (domAny && dowAny) return true;
  if (domAny) return dowMatches(cron.dow, year, month, day);
  if (dowAny) return domMatches(cron.dom, year, month, day);
  return domMatches(cron.dom, year, month, day) || dowMatches(cron.dow, year, month, day);
}

// ---- searching ticks -----------------------------------------------------------------------

const minuteMs = 60_000;
const hourMs = 3_600_000;
const dayMs = 86_400_000;
/** Far enough to reach any day a cron can name: Feb 29 recurs within 8 years. */
const searchDays = 366 * 9;

function startOfDay(local: number): number {
  return Math.floor(local / dayMs) * dayMs;
}

function dayMatches(cron: Cron, dayStart: number): boolean {
  const date = new Date(dayStart);
  return matchesDay(cron, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

/**
 * The first tick strictly after `after` (epoch ms), in `zone`'s wall-clock time, or undefined
 * when the cron names no time in the next nine years (`0 0 30 2 *`). See `fromLocal` for
 * what a tick inside a daylight-saving change means: a repeated hour fires once, a skipped
 * one fires at the same offset after the gap.
 */
export function nextTick(cron: Cron, zone: string | undefined, after: number): number | undefined {
  const start = Math.floor(toLocal(zone, after) / minuteMs) * minuteMs + minuteMs;
  const firstDay = startOfDay(start);
  for (let index = 0, day = firstDay; index < searchDays; index++, day += dayMs) {
    if (!dayMatches(cron, day)) continue;
    const from = day === firstDay ? start - day : 0;
    const fromHour = Math.floor(from / hourMs);
    for (let hour = fromHour; hour < 24; hour++) {
      if (!cron.hours[hour]) continue;
      const fromMinute = hour === fromHour ? Math.floor((from % hourMs) / minuteMs) : 0;
      for (let minute = fromMinute; minute < 60; minute++) {
        if (!cron.minutes[minute]) continue;
        const instant = fromLocal(zone, day + hour * hourMs + minute * minuteMs);
        if (instant > after) return instant;
      }
    }
  }
  return undefined;
}

/** The last tick at or before `at`, or undefined when there is none in the nine years before. */
export function previousTick(cron: Cron, zone: string | undefined, at: number): number | undefined {
  const end = Math.floor(toLocal(zone, at) / minuteMs) * minuteMs;
  const lastDay = startOfDay(end);
  for (let index = 0, day = lastDay; index < searchDays; index++, day -= dayMs) {
    if (!dayMatches(cron, day)) continue;
    const to = day === lastDay ? end - day : dayMs - minuteMs;
    const toHour = Math.floor(to / hourMs);
    for (let hour = toHour; hour >= 0; hour--) {
      if (!cron.hours[hour]) continue;
      const toMinute = hour === toHour ? Math.floor((to % hourMs) / minuteMs) : 59;
      for (let minute = toMinute; minute >= 0; minute--) {
        if (!cron.minutes[minute]) continue;
        const instant = fromLocal(zone, day + hour * hourMs + minute * minuteMs);
        if (instant <= at) return instant;
      }
    }
  }
  return undefined;
}

/** Registration-time check of a schedule: the expression, the zone, and that it ever fires. */
export function checkSchedule(
  source: string,
  zone?: string,
): { code: "cron" | "timezone"; message: string } | undefined {
  const parsed = parseCron(source);
  if (!parsed.ok) return { code: "cron", message: `invalid cron "${source}": ${parsed.error}` };
  if (zone !== undefined && !isTimeZone(zone)) return { code: "timezone", message: `unknown time zone "${zone}"` };
  if (nextTick(parsed.cron, "UTC", Date.UTC(2001, 0, 1)) === undefined) {
    return { code: "cron", message: `cron "${source}" names no time that exists (it never fires)` };
  }
  return undefined;
}
