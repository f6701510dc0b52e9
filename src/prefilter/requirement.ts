/**
 * What a line of NDJSON must contain for a query to possibly need it: a positive formula (no negation) of
 * "the line contains these bytes" facts. `any` means "no requirement" (every line may be needed).
 *
 * Needles are built from the text a value must contain, encoded as JSON would write it. A JSON encoder may
 * also write any character as `\uXXXX` and `/` as `\/` (texts are cut at `/`, so needles built from them
 * never hold one); and case-insensitive comparisons lower-case Unicode,
 * which maps two non-ASCII characters onto ASCII letters (U+212A KELVIN SIGN to `k`, U+0130 to `i` plus a
 * combining dot). Needles hold only bytes that no such variant can change; the variants themselves are
 * "hazards" that the line check and the block search treat as possible hits (see line-prefilter.ts).
 */

/** Bytes a line must contain, exactly or ASCII-case-insensitively. */
export interface Needle {
  /** The bytes; lower-cased ASCII when `caseInsensitive`. */
  readonly bytes: Uint8Array;
  readonly caseInsensitive: boolean;
  /** From a low-cardinality field (event category, type, os...): likely on many lines, a poor search. */
  readonly common: boolean;
  /**
   * The last byte is the closing quote of a string value (the text is where the value ends). Such an
   * occurrence followed by `:` is an object key, which no value comparison can need: `"process"` is the
   * value of `event.category` on process events and a key on nearly every other event.
   */
  readonly closesValue?: boolean;
  /** The needle as text (latin1 view of the bytes), for descriptions and deduplication. */
  readonly text: string;
}

export type Requirement =
  | { readonly kind: "any" }
  | { readonly kind: "needle"; readonly needle: Needle }
  | { readonly kind: "all"; readonly parts: readonly Requirement[] }
  | { readonly kind: "some"; readonly parts: readonly Requirement[] };

export const ANY: Requirement = { kind: "any" };

/** Every part is required. `any` parts are dropped; no part left is `any`. */
export function allOf(parts: readonly Requirement[]): Requirement {
  const out: Requirement[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    if (p.kind === "any") continue;
    for (const q of p.kind === "all" ? p.parts : [p]) {
      const key = requirementKey(q);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(q);
    }
  }
  if (out.length === 0) return ANY;
  if (out.length === 1) return out[0];
  return { kind: "all", parts: out };
}

/** Some part is required. Any `any` part (or no part at all) makes the whole `any`. */
export function someOf(parts: readonly Requirement[]): Requirement {
  const out: Requirement[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    if (p.kind === "any") return ANY;
    for (const q of p.kind === "some" ? p.parts : [p]) {
      const key = requirementKey(q);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(q);
    }
  }
  if (out.length === 0) return ANY;
  if (out.length === 1) return out[0];
  return { kind: "some", parts: out };
}

function needleKey(n: Needle): string {
  return `${n.caseInsensitive ? "i" : "s"}${n.common ? "c" : ""}:${n.text}`;
}

function requirementKey(r: Requirement): string {
  switch (r.kind) {
    case "any":
      return "*";
    case "needle":
      return needleKey(r.needle);
    case "all":
    case "some":
      return `${r.kind}(${r.parts.map(requirementKey).join(",")})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// From text to needles

/** How a value must relate to a text. */
export interface TextShape {
  /** The value starts with the text (its JSON string's opening quote precedes it). */
  readonly atStart: boolean;
  /** The value ends with the text (its closing quote follows it). */
  readonly atEnd: boolean;
  readonly caseInsensitive: boolean;
  /** The field has few distinct values (see Needle.common). */
  readonly common?: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;

/**
 * Characters a number's or boolean's text can consist of: a keyword comparison sees `String(n)` for a
 * JSON number, which need not be the bytes written (`1e2` is "100", `1E400` is "Infinity"). A run made
 * only of these can come from a number whose JSON text differs, so it is never required.
 */
function mayBeNumberText(run: string): boolean {
  const lower = run.toLowerCase();
  return /^[0-9.e+-]*$/.test(lower) || "-infinity".includes(lower);
}

/**
 * The requirement "a string value of the line contains `text`" (at its start / end per `shape`). The
 * value's JSON text contains the text's JSON encoding, except where an encoder may choose another escape
 * (control characters, lone surrogates, `/`) or where case folding is not ASCII (non-ASCII characters
 * under a case-insensitive comparison): the text is cut there and each remaining run is required.
 */
export function containsText(text: string, shape: TextShape): Requirement {
  const ci = shape.caseInsensitive;
  const runs: { from: number; to: number }[] = [];
  let runStart = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : -1;
    // U+FFFD may stand for invalid UTF-8 bytes in the line (the decoder replaces them): never required.
    // `/` may be written `\/`: cutting the text there keeps needles free of it, so the block search
    // needs no pass for that escape (a second native search over every byte, stopping at every `\`).
    let usable = c >= 0x20 && c !== 0x7f && c !== 0xfffd && c !== SLASH;
    if (usable && ci && c >= 0x80) usable = false;
    if (usable && c >= 0xd800 && c <= 0xdfff) {
      // Only a complete surrogate pair has a UTF-8 form.
      const pair =
        c <= 0xdbff &&
        i + 1 < text.length &&
        text.charCodeAt(i + 1) >= 0xdc00 &&
        text.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        if (runStart < 0) runStart = i;
        i++;
        continue;
      }
      usable = false;
    }
    if (usable) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      runs.push({ from: runStart, to: i });
      runStart = -1;
    }
  }
  const parts: Requirement[] = [];
  for (const { from, to } of runs) {
    const run = text.slice(from, to);
    if (mayBeNumberText(run)) continue;
    // A boolean's text (`true`) is written without quotes: a run that may be part of one is not anchored.
    const folded = run.toLowerCase();
    const anchorable = !"true".includes(folded) && !"false".includes(folded);
    const open = anchorable && shape.atStart && from === 0;
    const close = anchorable && shape.atEnd && to === text.length;
    parts.push({ kind: "needle", needle: makeNeedle(run, ci, open, close, shape.common === true) });
  }
  return allOf(parts);
}

function makeNeedle(run: string, ci: boolean, open: boolean, close: boolean, common: boolean): Needle {
  const body = Buffer.from(ci ? run.toLowerCase() : run, "utf8");
  const out: number[] = [];
  if (open) out.push(QUOTE);
  for (const b of body) {
    if (b === QUOTE || b === BACKSLASH) out.push(BACKSLASH);
    out.push(b);
  }
  if (close) out.push(QUOTE);
  const bytes = Uint8Array.from(out);
  return {
    bytes,
    caseInsensitive: ci && /[a-z]/.test(run.toLowerCase()),
    common,
    closesValue: close,
    text: Buffer.from(bytes).toString("latin1"),
  };
}

/** The requirement of a wildcard pattern (split at `wildcards` characters) matching a whole value. */
export function matchesWildcard(
  pattern: string,
  wildcards: string,
  caseInsensitive: boolean,
  common = false,
): Requirement {
  const pieces: { text: string; start: boolean; end: boolean }[] = [];
  let last = 0;
  for (let i = 0; i <= pattern.length; i++) {
    if (i === pattern.length || wildcards.includes(pattern[i])) {
      pieces.push({ text: pattern.slice(last, i), start: last === 0, end: i === pattern.length });
      last = i + 1;
    }
  }
  return allOf(
    pieces
      .filter((p) => p.text.length > 0)
      .map((p) => containsText(p.text, { atStart: p.start, atEnd: p.end, caseInsensitive, common })),
  );
}

// ---------------------------------------------------------------------------------------------------
// Choosing what to search for

/** Rough chance that a line holds a needle: longer is rarer; case-insensitive is a little commoner. */
export function needleWeight(n: Needle): number {
  if (n.common) return 0.25;
  const len = n.bytes.length;
  return Math.min(1, 2000 * 12 ** -len * (n.caseInsensitive ? 1.5 : 1));
}

/**
 * A set of needles such that every line the requirement accepts contains one of them (a disjunction the
 * requirement implies), picking the rarest conjunct of each `all`. Undefined for `any`.
 */
export function coverOf(r: Requirement): Needle[] | undefined {
  switch (r.kind) {
    case "any":
      return undefined;
    case "needle":
      return [r.needle];
    case "some": {
      const out = new Map<string, Needle>();
      for (const p of r.parts) {
        const c = coverOf(p);
        if (!c) return undefined;
        for (const n of c) out.set(needleKey(n), n);
      }
      return [...out.values()];
    }
    case "all": {
      let best: Needle[] | undefined;
      let bestCost = Number.POSITIVE_INFINITY;
      for (const p of r.parts) {
        const c = coverOf(p);
        if (!c) continue;
        const cost = coverCost(c);
        if (cost < bestCost) {
          best = c;
          bestCost = cost;
        }
      }
      return best;
    }
  }
}

function coverCost(needles: readonly Needle[]): number {
  let p = 0;
  let shortest = Number.POSITIVE_INFINITY;
  for (const n of needles) {
    p += needleWeight(n);
    shortest = Math.min(shortest, n.bytes.length);
  }
  // Searching many needles, or short ones, costs time as well as candidates.
  return Math.min(1, p) + needles.length * 1e-6 + 1e-3 / shortest;
}

/**
 * ECS fields with few distinct values: a needle from one of them is on many lines, so the search prefers
 * any other conjunct (it is still verified on each candidate line).
 */
export const LOW_CARDINALITY_FIELDS: ReadonlySet<string> = new Set([
  "event.category",
  "event.type",
  "event.kind",
  "event.action",
  "event.outcome",
  "event.module",
  "event.dataset",
  "event.provider",
  "data_stream.dataset",
  "data_stream.type",
  "data_stream.namespace",
  "host.os.type",
  "host.os.family",
  "host.os.platform",
  "host.os.name",
  "agent.type",
  "network.protocol",
  "network.transport",
  "network.direction",
  "dns.question.type",
  "http.request.method",
]);

/** Every needle of a requirement. */
export function needlesOf(r: Requirement, out: Needle[] = []): Needle[] {
  switch (r.kind) {
    case "any":
      break;
    case "needle":
      out.push(r.needle);
      break;
    case "all":
    case "some":
      for (const p of r.parts) needlesOf(p, out);
      break;
  }
  return out;
}

/** `contains~ "a.com"`, `all(...)`, `some(...)`: for --explain. Long lists are shortened. */
export function describeRequirement(r: Requirement, budget = 240): string {
  const text = render(r);
  return text.length > budget ? `${text.slice(0, budget - 3)}...` : text;
}

function render(r: Requirement): string {
  switch (r.kind) {
    case "any":
      return "any line";
    case "needle":
      return `contains${r.needle.caseInsensitive ? "~" : ""} ${JSON.stringify(r.needle.text)}`;
    case "all":
      return `all(${r.parts.map(render).join(", ")})`;
    case "some":
      return r.parts.length > 8
        ? `some of ${r.parts.length} (${r.parts.slice(0, 3).map(render).join(", ")}, ...)`
        : `some(${r.parts.map(render).join(", ")})`;
  }
}
