/**
 * Dates in queries as Elasticsearch reads them on a `date` field with the default format
 * `strict_date_optional_time||epoch_millis`, plus date math (`now-1d/d`, `2024-01-01||+1M`).
 *
 * Rounding follows Elasticsearch's range rules: an upper bound that includes its value (`lte`) and a
 * lower bound that excludes it (`gt`) round *up*: missing date components are filled with their largest
 * value (`2018-04-03` becomes 23:59:59.999) and `/d` goes to the last millisecond of the day; `gte` and
 * `lt` round down. A time zone applies to dates written without an offset and to rounding; epoch values
 * are absolute.
 */
import type { Timestamp } from "../events/timestamp.js";

export interface DateMathOptions {
  /** Fill missing components / round to the end of the unit instead of its start. */
  readonly roundUp: boolean;
  /** IANA zone, `UTC`, `Z` or an offset like `+01:00`; default UTC. */
  readonly timeZone?: string;
  /** Epoch milliseconds `now` stands for. */
  readonly now: number;
}

const DATE =
  /^([+-]?\d{4,9})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH = /^-?\d+(?:\.\d+)?$/;
const MATH_STEP = /^(?:([+-])(\d*)([yMwdhHms])|\/([yMwdhHms]))/;

/** Parse a date or date-math expression to an instant, or undefined when Elasticsearch would reject it. */
export function parseDateMath(text: string, options: DateMathOptions): Timestamp | undefined {
  let anchor: Timestamp | undefined;
  let math: string;
  if (text.startsWith("now")) {
    anchor = { ms: options.now, nanos: 0 };
    math = text.slice(3);
  } else {
    const bars = text.indexOf("||");
    if (bars < 0) return parseDate(text, options.roundUp, options.timeZone);
    anchor = parseDate(text.slice(0, bars), false, options.timeZone);
    math = text.slice(bars + 2);
  }
  if (!anchor) return undefined;
  if (math === "") return anchor;
  const zone = zoneResolver(options.timeZone);
  if (!zone) return undefined;
  let ms = anchor.ms;
  let nanos = anchor.nanos;
  let rest = math;
  while (rest.length > 0) {
    const step = MATH_STEP.exec(rest);
    if (!step) return undefined;
    rest = rest.slice(step[0].length);
    if (step[4]) {
      const start = truncate(ms, step[4], zone);
      if (options.roundUp) {
        ms = add(start, step[4], 1, zone) - 1;
        nanos = 999_999;
      } else {
        ms = start;
        nanos = 0;
      }
    } else {
      const amount = step[2] === "" ? 1 : Number(step[2]);
      ms = add(ms, step[3], step[1] === "-" ? -amount : amount, zone);
    }
  }
  return Number.isFinite(ms) ? { ms, nanos } : undefined;
}

/** `strict_date_optional_time`, else `epoch_millis`. */
function parseDate(text: string, roundUp: boolean, timeZone: string | undefined): Timestamp | undefined {
  const m = DATE.exec(text);
  if (m && /^[+-]?\d{4}$/.test(m[1])) {
    const [, y, mo, d, h, mi, s, frac, offset] = m;
    const year = Number(y);
    const month = mo === undefined ? (roundUp ? 12 : 1) : Number(mo);
    if (month < 1 || month > 12) return undefined;
    const lastDay = daysInMonth(year, month);
    const day = d === undefined ? (roundUp ? lastDay : 1) : Number(d);
    if (day < 1 || day > lastDay) return undefined;
    const hour = h === undefined ? (roundUp ? 23 : 0) : Number(h);
    const minute = mi === undefined ? (roundUp ? 59 : 0) : Number(mi);
    const second = s === undefined ? (roundUp ? 59 : 0) : Number(s);
    if (hour > 23 || minute > 59 || second > 59) return undefined;
    let millis: number;
    let nanos: number;
    if (frac === undefined) {
      millis = roundUp ? 999 : 0;
      nanos = roundUp ? 999_999 : 0;
    } else {
      const padded = (frac + "000000000").slice(0, 9);
      millis = Number(padded.slice(0, 3));
      nanos = Number(padded.slice(3));
    }
    const wall = wallMs(year, month, day, hour, minute, second, millis);
    if (offset !== undefined) {
      const offsetMs = parseOffset(offset);
      if (offsetMs === undefined) return undefined;
      return { ms: wall - offsetMs, nanos };
    }
    const zone = zoneResolver(timeZone);
    if (!zone) return undefined;
    return { ms: zone.toUtc(wall), nanos };
  }
  if (EPOCH.test(text)) {
    const value = Number(text);
    if (!Number.isFinite(value)) return undefined;
    const ms = Math.floor(value);
    return { ms, nanos: Math.round((value - ms) * 1e6) };
  }
  return undefined;
}

function wallMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  date.setUTCFullYear(year);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(Date.UTC(2000, month, 0));
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

function parseOffset(text: string): number | undefined {
  if (text === "Z" || text === "z") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? "0");
  if (Number(m[2]) > 18) return undefined;
  return (m[1] === "-" ? -1 : 1) * minutes * 60_000;
}

interface Zone {
  /** Offset from UTC in ms at an instant. */
  offsetAt(utcMs: number): number;
  /** The instant of a wall-clock time (as UTC-based ms) in this zone. */
  toUtc(wall: number): number;
}

const zones = new Map<string, Zone | undefined>();

/** A zone by name: `UTC`/`Z`, a fixed offset, or an IANA name; undefined when unknown. */
export function zoneResolver(name: string | undefined): Zone | undefined {
  const key = name ?? "UTC";
  if (zones.has(key)) return zones.get(key);
  let zone: Zone | undefined;
  const fixed = key === "UTC" || key === "Z" || key === "GMT" ? 0 : parseOffset(key);
  if (fixed !== undefined) {
    zone = { offsetAt: () => fixed, toUtc: (wall) => wall - fixed };
  } else {
    try {
      const format = new Intl.DateTimeFormat("en-US", {
        timeZone: key,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
      const offsetAt = (utcMs: number): number => {
        const parts: Record<string, number> = {};
        for (const part of format.formatToParts(new Date(utcMs))) {
          if (part.type !== "literal" && part.type !== "era") parts[part.type] = Number(part.value);
        }
        const floored = utcMs - (((utcMs % 1000) + 1000) % 1000);
        const asUtc = wallMs(parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second, 0);
        return asUtc - floored;
      };
      zone = {
        offsetAt,
        toUtc: (wall) => {
          const first = wall - offsetAt(wall);
          return wall - offsetAt(first);
        },
      };
    } catch {
      zone = undefined;
    }
  }
  if (zones.size < 256) zones.set(key, zone);
  return zone;
}

/** Start of the unit containing `ms`, in the zone's wall-clock time. */
function truncate(ms: number, unit: string, zone: Zone): number {
  const wall = new Date(ms + zone.offsetAt(ms));
  switch (unit) {
    case "y":
      wall.setUTCMonth(0, 1);
      wall.setUTCHours(0, 0, 0, 0);
      break;
    case "M":
      wall.setUTCDate(1);
      wall.setUTCHours(0, 0, 0, 0);
      break;
    case "w": {
      const weekday = (wall.getUTCDay() + 6) % 7; // Monday = 0
      wall.setUTCDate(wall.getUTCDate() - weekday);
      wall.setUTCHours(0, 0, 0, 0);
      break;
    }
    case "d":
      wall.setUTCHours(0, 0, 0, 0);
      break;
    case "h":
    case "H":
      wall.setUTCMinutes(0, 0, 0);
      break;
    case "m":
      wall.setUTCSeconds(0, 0);
      break;
    case "s":
      wall.setUTCMilliseconds(0);
      break;
  }
  return zone.toUtc(wall.getTime());
}

/** Add `amount` units: calendar units on the wall clock (month ends clamp), time units on the timeline. */
function add(ms: number, unit: string, amount: number, zone: Zone): number {
  switch (unit) {
    case "h":
    case "H":
      return ms + amount * 3_600_000;
    case "m":
      return ms + amount * 60_000;
    case "s":
      return ms + amount * 1000;
  }
  const wall = new Date(ms + zone.offsetAt(ms));
  if (unit === "y" || unit === "M") {
    const day = wall.getUTCDate();
    wall.setUTCDate(1);
    if (unit === "y") wall.setUTCFullYear(wall.getUTCFullYear() + amount);
    else wall.setUTCMonth(wall.getUTCMonth() + amount);
    const last = daysInMonth(wall.getUTCFullYear(), wall.getUTCMonth() + 1);
    wall.setUTCDate(Math.min(day, last));
  } else {
    wall.setUTCDate(wall.getUTCDate() + amount * (unit === "w" ? 7 : 1));
  }
  return zone.toUtc(wall.getTime());
}
