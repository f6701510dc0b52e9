/**
 * Kibana's time vocabulary offline: date math (`now-6m`, `now-30d/d`) relative to a given "now" (the end
 * of the input's time range or `--to`), and schedule intervals (`5m`, `1h`).
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  H: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `5m`, `1h`, `30s`, `7d` -> milliseconds, or undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(ms|s|m|h|H|d|w)\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]];
}

/**
 * Elasticsearch date math anchored at `now`: `now`, `now-6m`, `now+1h`, `now-30d/d` (rounding down to the
 * unit), chains such as `now-1d-12h`. Months and years use calendar arithmetic in UTC. Returns epoch
 * milliseconds, or undefined when the text is not date math.
 */
export function resolveDateMath(text: string, nowMs: number): number | undefined {
  const t = text.trim();
  if (!t.startsWith("now")) return undefined;
  let i = 3;
  const date = new Date(nowMs);
  while (i < t.length) {
    const op = t[i];
    if (op === "+" || op === "-") {
      const m = /^(\d+)(ms|s|m|h|H|d|w|M|y)/.exec(t.slice(i + 1));
      if (!m) return undefined;
      const n = Number(m[1]) * (op === "-" ? -1 : 1);
      const unit = m[2];
      if (unit === "M") date.setUTCMonth(date.getUTCMonth() + n);
      else if (unit === "y") date.setUTCFullYear(date.getUTCFullYear() + n);
      else date.setTime(date.getTime() + n * UNIT_MS[unit]);
      i += 1 + m[0].length;
    } else if (op === "/") {
      const m = /^(ms|s|m|h|H|d|w|M|y)/.exec(t.slice(i + 1));
      if (!m) return undefined;
      roundDown(date, m[1]);
      i += 1 + m[0].length;
    } else return undefined;
  }
  return date.getTime();
}

function roundDown(date: Date, unit: string): void {
  switch (unit) {
    case "y":
      date.setUTCMonth(0, 1);
      date.setUTCHours(0, 0, 0, 0);
      return;
    case "M":
      date.setUTCDate(1);
      date.setUTCHours(0, 0, 0, 0);
      return;
    case "w": {
      // ISO weeks start on Monday.
      const day = (date.getUTCDay() + 6) % 7;
      date.setUTCDate(date.getUTCDate() - day);
      date.setUTCHours(0, 0, 0, 0);
      return;
    }
    case "d":
      date.setUTCHours(0, 0, 0, 0);
      return;
    case "h":
    case "H":
      date.setUTCMinutes(0, 0, 0);
      return;
    case "m":
      date.setUTCSeconds(0, 0);
      return;
    case "s":
      date.setUTCMilliseconds(0);
      return;
    default:
      return;
  }
}

/** The lookback of a rule's `from` (`now-9m` -> 9 minutes), in milliseconds; undefined if unreadable. */
export function lookbackMs(from: string): number | undefined {
  const reference = Date.UTC(2000, 0, 1);
  const at = resolveDateMath(from, reference);
  return at === undefined ? undefined : Math.max(0, reference - at);
}
