/**
 * Value semantics of the EQL evaluator: how a field's type (from the schema, else the value itself, as
 * Elasticsearch's dynamic mapping would type it) turns a `_source` value into what Elasticsearch indexed,
 * and how two such values compare.
 *
 * - keyword-like fields (keyword, constant_keyword, wildcard, text through its exact sub-field) hold
 *   strings; a number or boolean in `_source` is indexed as its text;
 * - integer fields (byte..long, unsigned_long) hold integers: `"12"` is 12 and 1.9 is 1 (coercion);
 * - floating fields hold doubles; boolean fields hold booleans (`"true"`/`"false"` accepted);
 * - date fields hold instants (compared as epoch nanoseconds); ip fields hold addresses (IPv4 as
 *   IPv4-mapped IPv6, compared as 16 bytes); version fields order by semantic version, with invalid
 *   versions after every valid one.
 * A value that cannot be indexed under its field's type (e.g. `"abc"` in a long field) is dropped, as
 * Elasticsearch would reject or ignore it.
 */

import { parseTimestamp } from "../events/timestamp.js";
import type { JsonValue } from "../events/types.js";
import type { FieldInfo } from "../schema/index.js";

/** What the evaluator computes with: JSON scalars (bigint for integers beyond 2^53) and null. */
export type Scalar = string | number | bigint | boolean | null;

export type FieldKind =
  | "keyword"
  | "integer"
  | "float"
  | "boolean"
  | "date"
  | "ip"
  | "version"
  /** Not in the schema: typed per value, as dynamic mapping would. */
  | "dynamic"
  /** Objects, geo points, ranges...: never equal to a scalar. */
  | "other";

const KEYWORD_TYPES = new Set(["keyword", "constant_keyword", "wildcard", "text", "match_only_text"]);
const INTEGER_TYPES = new Set(["byte", "short", "integer", "long", "unsigned_long"]);
const FLOAT_TYPES = new Set(["double", "float", "half_float", "scaled_float"]);

export function fieldKind(info: FieldInfo | undefined): FieldKind {
  if (!info) return "dynamic";
  const t = info.type;
  if (KEYWORD_TYPES.has(t)) return "keyword";
  if (INTEGER_TYPES.has(t)) return "integer";
  if (FLOAT_TYPES.has(t)) return "float";
  if (t === "boolean") return "boolean";
  if (t === "date" || t === "date_nanos") return "date";
  if (t === "ip") return "ip";
  if (t === "version") return "version";
  return "other";
}

/** The kind a dynamic value gets (Elasticsearch's dynamic mapping; strings are matched as keywords). */
export function dynamicKind(value: JsonValue): FieldKind {
  switch (typeof value) {
    case "string":
      return "keyword";
    case "number":
      return Number.isInteger(value) ? "integer" : "float";
    case "bigint":
      return "integer";
    case "boolean":
      return "boolean";
    default:
      return "other";
  }
}

/** A number's text as Java prints a double: `1.0`, `2.5`, `1.0E21`. */
export function javaDouble(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(n) && Math.abs(n) < 1e7) return `${n}.0`;
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) return String(n);
  const [mantissa, exponent] = n.toExponential().split("e");
  const m = mantissa.includes(".") ? mantissa : `${mantissa}.0`;
  return `${m}E${Number(exponent)}`;
}

/** The text a keyword field indexes for a `_source` value. */
export function keywordText(value: JsonValue): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
    default:
      return undefined;
  }
}

/** Coerce a `_source` value to an integer, as a long field indexes it; undefined when it cannot. */
export function toInteger(value: JsonValue): number | bigint | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === "bigint") return value;
  if (typeof value === "string") {
    const t = value.trim();
    if (/^[+-]?\d+$/.test(t)) {
      const n = Number(t);
      return Number.isSafeInteger(n) ? n : BigInt(t);
    }
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Math.trunc(Number(t));
  }
  return undefined;
}

export function toDouble(value: JsonValue): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string") {
    const t = value.trim();
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  }
  return undefined;
}

export function toBoolean(value: JsonValue): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** A date as epoch nanoseconds (comparable as bigint). */
export function toDateNanos(value: JsonValue): bigint | undefined {
  const t = parseTimestamp(value);
  if (!t) return undefined;
  return BigInt(t.ms) * 1_000_000n + BigInt(t.nanos);
}

/** ISO-8601 text with milliseconds, as Elasticsearch formats a date key (`1970-01-01T00:00:00.000Z`). */
export function formatDateNanos(nanos: bigint): string {
  const ms = nanos / 1_000_000n - (nanos < 0n && nanos % 1_000_000n !== 0n ? 1n : 0n);
  const rest = nanos - ms * 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  if (rest === 0n) return iso;
  return `${iso.slice(0, -1)}${rest.toString().padStart(6, "0").replace(/0+$/, "")}Z`;
}

// ---------------------------------------------------------------------------------------------------
// IP addresses

/** An address as 32 hex digits (IPv4 mapped into IPv6, as Elasticsearch stores it); undefined if invalid. */
export function ipKey(text: string): string | undefined {
  const v4 = parseIpv4(text);
  if (v4) return `00000000000000000000ffff${v4.map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  const v6 = parseIpv6(text);
  return v6 ? v6.map((w) => w.toString(16).padStart(4, "0")).join("") : undefined;
}

function parseIpv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function parseIpv6(input: string): number[] | undefined {
  let text = input;
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return undefined;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    const v4 = parseIpv4(maybeV4);
    if (!v4) return undefined;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    text = `${text.slice(0, lastColon + 1)}`;
    if (text.endsWith("::")) text = `${text}`;
    else text = text.slice(0, -1);
  }
  const parts = text.split("::");
  if (parts.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === "") return [];
    const words = s.split(":");
    const out: number[] = [];
    for (const w of words) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
      out.push(Number.parseInt(w, 16));
    }
    return out;
  };
  const head = parse(parts[0]);
  const rest = parts.length === 2 ? parse(parts[1]) : [];
  if (!head || !rest) return undefined;
  const total = head.length + rest.length + tail.length;
  if (parts.length === 1) return total === 8 ? [...head, ...tail] : undefined;
  if (total > 7) return undefined;
  return [...head, ...new Array<number>(8 - total).fill(0), ...rest, ...tail];
}

/** A CIDR block as a 16-byte prefix test; undefined if the text is not an address or block. */
export function compileCidr(text: string): ((key: string) => boolean) | undefined {
  const slash = text.indexOf("/");
  const address = slash >= 0 ? text.slice(0, slash) : text;
  const key = ipKey(address);
  if (!key) return undefined;
  const isV4 = parseIpv4(address) !== undefined;
  let bits = isV4 ? 32 : 128;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    bits = Number(p);
    if (bits > (isV4 ? 32 : 128)) return undefined;
  }
  const prefixBits = isV4 ? 96 + bits : bits;
  const network = hexToBits(key).slice(0, prefixBits);
  return (candidate: string) => hexToBits(candidate).startsWith(network);
}

function hexToBits(hex: string): string {
  let out = "";
  for (const c of hex) out += Number.parseInt(c, 16).toString(2).padStart(4, "0");
  return out;
}

/** Elasticsearch's text for an address key: dotted IPv4 when mapped, else compressed IPv6. */
export function formatIpKey(key: string): string {
  if (key.startsWith("00000000000000000000ffff")) {
    const b = key.slice(24);
    return [0, 2, 4, 6].map((i) => Number.parseInt(b.slice(i, i + 2), 16)).join(".");
  }
  const words = [];
  for (let i = 0; i < 32; i += 4) words.push(Number.parseInt(key.slice(i, i + 4), 16).toString(16));
  // Compress the longest run of zero words.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(":");
  return `${words.slice(0, best).join(":")}::${words.slice(best + bestLen).join(":")}`;
}

// ---------------------------------------------------------------------------------------------------
// Versions (Elasticsearch's `version` type: SemVer order, invalid versions last)

interface ParsedVersion {
  readonly valid: boolean;
  readonly main: readonly bigint[];
  readonly pre: readonly string[] | null;
  readonly text: string;
}

function parseVersion(text: string): ParsedVersion {
  const m =
    /^(\d+(?:\.\d+)*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/.exec(
      text,
    );
  if (!m) return { valid: false, main: [], pre: null, text };
  const main = m[1].split(".");
  if (main.some((p) => p.length > 1 && p.startsWith("0"))) return { valid: false, main: [], pre: null, text };
  return { valid: true, main: main.map((p) => BigInt(p)), pre: m[2] ? m[2].split(".") : null, text };
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (x.valid !== y.valid) return x.valid ? -1 : 1;
  if (!x.valid) return a < b ? -1 : a > b ? 1 : 0;
  const n = Math.max(x.main.length, y.main.length);
  for (let i = 0; i < n; i++) {
    const p = x.main[i] ?? -1n;
    const q = y.main[i] ?? -1n;
    if (p !== q) return p < q ? -1 : 1;
  }
  if (x.pre === null || y.pre === null) {
    if (x.pre === y.pre) return 0;
    return x.pre === null ? 1 : -1;
  }
  const m = Math.max(x.pre.length, y.pre.length);
  for (let i = 0; i < m; i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) {
      const d = BigInt(p) - BigInt(q);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (pn !== qn) return pn ? -1 : 1;
    else if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// Indexed values and comparison

/**
 * A value as its field indexes it: strings for keyword, number/bigint for numbers, booleans, bigint
 * epoch nanoseconds for dates (tagged), 32-hex keys for ips (tagged), strings for versions.
 */
export type Indexed =
  | { readonly kind: "keyword"; readonly v: string }
  | { readonly kind: "integer"; readonly v: number | bigint }
  | { readonly kind: "float"; readonly v: number }
  | { readonly kind: "boolean"; readonly v: boolean }
  | { readonly kind: "date"; readonly v: bigint }
  | { readonly kind: "ip"; readonly v: string }
  | { readonly kind: "version"; readonly v: string };

/** The value a field of `kind` indexes for a `_source` value, or undefined when it is not indexable. */
export function indexValue(kind: FieldKind, value: JsonValue): Indexed | undefined {
  switch (kind) {
    case "keyword": {
      const v = keywordText(value);
      return v === undefined ? undefined : { kind, v };
    }
    case "integer": {
      const v = toInteger(value);
      return v === undefined ? undefined : { kind, v };
    }
    case "float": {
      const v = toDouble(value);
      return v === undefined ? undefined : { kind, v };
    }
    case "boolean": {
      const v = toBoolean(value);
      return v === undefined ? undefined : { kind, v };
    }
    case "date": {
      const v = toDateNanos(value);
      return v === undefined ? undefined : { kind, v };
    }
    case "ip": {
      const v = typeof value === "string" ? ipKey(value) : undefined;
      return v === undefined ? undefined : { kind, v };
    }
    case "version":
      return typeof value === "string" ? { kind, v: value } : undefined;
    case "dynamic": {
      const k = dynamicKind(value);
      return k === "other" ? undefined : indexValue(k, value);
    }
    case "other":
      return undefined;
  }
}

/** Numeric comparison across number and bigint. */
export function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === "number" && typeof b === "number")
    return a < b ? -1 : a > b ? 1 : a === b ? 0 : Number.NaN;
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  // Mixed: compare exactly when the number is an integer, else through doubles.
  const n = typeof a === "number" ? a : b;
  if (typeof n === "number" && !Number.isInteger(n)) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = typeof a === "bigint" ? a : BigInt(a);
  const y = typeof b === "bigint" ? b : BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Compare UTF-16 strings in Unicode code point order (the order of their UTF-8 bytes, which is how
 * Lucene orders keyword terms).
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points above U+FFFF) sort after U+E000..U+FFFF in code point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (x >= 0xe000 || y >= 0xe000)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------------
// Date formats (a mapping's `format`: Java-style patterns and Elasticsearch's named formats, `||`-joined)

/** Parses a `_source` value as a date field with this `format` would; epoch nanoseconds or undefined. */
export type DateParser = (value: JsonValue) => bigint | undefined;

const NAMED_DEFAULT = new Set([
  "strict_date_optional_time",
  "date_optional_time",
  "strict_date_optional_time_nanos",
  "strict_date_time",
  "date_time",
]);

export function compileDateFormat(format: string | undefined): DateParser {
  if (!format) return toDateNanos;
  const parsers = format.split("||").map((f) => namedOrPattern(f.trim()));
  return (value) => {
    for (const p of parsers) {
      const v = p(value);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

function namedOrPattern(name: string): DateParser {
  if (NAMED_DEFAULT.has(name))
    return (v) => (typeof v === "string" && !/^-?\d+(\.\d+)?$/.test(v) ? toDateNanos(v) : undefined);
  if (name === "epoch_millis") {
    return (v) =>
      typeof v === "number" || typeof v === "bigint" || (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v))
        ? toDateNanos(v)
        : undefined;
  }
  if (name === "epoch_second") {
    return (v) => {
      const n =
        typeof v === "string" && /^-?\d+$/.test(v)
          ? BigInt(v)
          : typeof v === "number" && Number.isInteger(v)
            ? BigInt(v)
            : typeof v === "bigint"
              ? v
              : undefined;
      return n === undefined ? undefined : n * 1_000_000_000n;
    };
  }
  if (name === "strict_date" || name === "date") return javaPattern("yyyy-MM-dd");
  if (name === "basic_date") return javaPattern("yyyyMMdd");
  return javaPattern(name);
}

/** A Java `DateTimeFormatter` pattern of numeric fields (y M d H m s S) and literals, read as UTC. */
function javaPattern(pattern: string): DateParser {
  const fields: string[] = [];
  let source = "^";
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      const lit = pattern.slice(i + 1, end < 0 ? pattern.length : end);
      source += lit.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      i = end < 0 ? pattern.length : end + 1;
      continue;
    }
    if (/[yuMdHhmsS]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      const width = j - i;
      fields.push(c === "u" ? "y" : c === "h" ? "H" : c);
      source +=
        c === "S"
          ? `(\\d{1,${Math.max(width, 9)}})`
          : width >= 3 && c === "y"
            ? "(\\d{4,})"
            : `(\\d{1,${Math.max(width, 2)}})`;
      i = j;
      continue;
    }
    source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    i++;
  }
  const re = new RegExp(`${source}$`);
  return (value) => {
    if (typeof value !== "string") return undefined;
    const m = re.exec(value);
    if (!m) return undefined;
    const parts: Record<string, string> = {};
    fields.forEach((f, k) => {
      parts[f] = m[k + 1];
    });
    const year = Number(parts.y ?? "1970");
    const month = Number(parts.M ?? "1");
    const day = Number(parts.d ?? "1");
    if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
    const ms = Date.UTC(
      year,
      month - 1,
      day,
      Number(parts.H ?? "0"),
      Number(parts.m ?? "0"),
      Number(parts.s ?? "0"),
    );
    if (Number.isNaN(ms)) return undefined;
    const fraction = ((parts.S ?? "") + "000000000").slice(0, 9);
    return BigInt(ms) * 1_000_000n + BigInt(fraction);
  };
}
