/**
 * The EQL functions, computed as Elasticsearch computes them (its `*FunctionProcessor` classes and the
 * fold cases of its test suite): null in, null out; string positions are UTF-16 units (Java `String`);
 * the `~` variants compare lower-cased text (Java `toLowerCase(Locale.ROOT)`, which JavaScript's
 * `toLowerCase` matches).
 *
 * Arithmetic follows Java's: two integers give an integer (division truncates toward zero, `%` takes
 * the dividend's sign, integer division by zero is an error), anything with a double gives a double.
 * Integers beyond 64 bits are an error ("long overflow"), as `Math.addExact` raises it.
 */
import { QuarryError, type Span } from "../diagnostics/index.js";
import { compileCidr, ipKey, javaDouble, type Scalar } from "./values.js";

export const FunctionCode = {
  runtime: "EQL173",
} as const;

/** Static knowledge about a numeric operand: integer, double, or decided per value. */
export type NumericHint = "integer" | "double" | "unknown";

export type FunctionImpl = (args: readonly Scalar[]) => Scalar;

export interface FunctionContext {
  readonly name: string;
  readonly caseInsensitive: boolean;
  /** Numeric hints per argument (for the arithmetic functions and `string`). */
  readonly hints: readonly NumericHint[];
  /** Constant arguments, where known (cidrMatch compiles its blocks once). */
  readonly constants: readonly (Scalar | undefined)[];
  readonly span?: Span;
}

export function runtimeError(message: string, span?: Span): QuarryError {
  return new QuarryError({
    code: FunctionCode.runtime,
    severity: "error",
    title: message,
    labels: span ? [{ span, text: message, primary: true }] : [],
  });
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

function isIntegral(value: Scalar, hint: NumericHint): boolean {
  if (typeof value === "bigint") return true;
  if (hint === "integer") return true;
  if (hint === "double") return false;
  return typeof value === "number" && Number.isInteger(value);
}

function toLong(value: number | bigint): bigint {
  return typeof value === "bigint" ? value : BigInt(Math.trunc(value));
}

function fromLong(value: bigint, span?: Span): number | bigint {
  if (value < LONG_MIN || value > LONG_MAX) throw runtimeError("long overflow", span);
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

export type ArithmeticOp = "+" | "-" | "*" | "/" | "%";

/** `a op b` with Java semantics; null when either side is null. */
export function arithmetic(
  op: ArithmeticOp,
  a: Scalar,
  b: Scalar,
  hintA: NumericHint,
  hintB: NumericHint,
  span?: Span,
): Scalar {
  if (a === null || b === null) return null;
  if (!isNumeric(a) || !isNumeric(b)) {
    throw runtimeError(
      `A number is required; received [${a === null ? "null" : String(isNumeric(a) ? b : a)}]`,
      span,
    );
  }
  if (isIntegral(a, hintA) && isIntegral(b, hintB)) {
    const x = toLong(a);
    const y = toLong(b);
    switch (op) {
      case "+":
        return fromLong(x + y, span);
      case "-":
        return fromLong(x - y, span);
      case "*":
        return fromLong(x * y, span);
      case "/":
        if (y === 0n) throw runtimeError("/ by zero", span);
        return fromLong(x / y, span);
      case "%":
        if (y === 0n) throw runtimeError("/ by zero", span);
        return fromLong(x % y, span);
    }
  }
  const x = Number(a);
  const y = Number(b);
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      return x / y;
    case "%":
      return x % y;
  }
}

function isNumeric(v: Scalar): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

/** The text `string()` and `concat()` give a value (Java's `toString` of the value). */
export function scalarText(value: Scalar, hint: NumericHint = "unknown"): string | null {
  if (value === null) return null;
  if (typeof value === "number") {
    if (hint === "double" || (hint === "unknown" && !Number.isInteger(value))) return javaDouble(value);
    return String(value);
  }
  return String(value);
}

function str(value: Scalar): string | null {
  if (value === null) return null;
  return typeof value === "string" ? value : String(value);
}

function lower(s: string, ci: boolean): string {
  return ci ? s.toLowerCase() : s;
}

/** Java's `indexOf(String, int)` semantics for a start outside the string. */
function indexOfFrom(source: string, needle: string, start: number): number {
  const from = Math.max(0, start);
  if (from > source.length) return needle.length === 0 ? -1 : -1;
  return source.indexOf(needle, from);
}

function integerArg(value: Scalar, what: string, span?: Span): number | null {
  if (value === null) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "number")
    throw runtimeError(`A number is required; received [${String(value)}] for ${what}`, span);
  return Math.trunc(value);
}

/** python-style slicing: negative positions count from the end; out-of-range positions are clamped. */
function substring(source: string, startArg: number | null, endArg: number | null): string {
  const len = source.length;
  let start = startArg ?? 0;
  let end = endArg ?? len;
  if (start < 0) start = Math.max(0, len + start);
  if (end < 0) end = Math.max(0, len + end);
  start = Math.min(start, len);
  end = Math.min(end, len);
  return start < end ? source.slice(start, end) : "";
}

function between(source: string, left: string, right: string, greedy: boolean, ci: boolean): string | null {
  const s = lower(source, ci);
  const l = lower(left, ci);
  const r = lower(right, ci);
  const at = s.indexOf(l);
  if (at < 0) return null;
  const start = at + l.length;
  const end = greedy ? s.lastIndexOf(r) : s.indexOf(r, start);
  if (end < start) return null;
  return source.slice(start, end);
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

function toNumber(source: Scalar, base: Scalar, span?: Span): Scalar {
  if (source === null) return null;
  const text = str(source) ?? "";
  const hex = text.startsWith("0x");
  let radix: number;
  if (base === null) radix = hex ? 16 : 10;
  else if (typeof base === "number" && Number.isInteger(base)) radix = base;
  else throw runtimeError(`An integer base is required; received [${String(base)}]`, span);
  const digits = hex && radix === 16 ? text.slice(2) : text;
  const fail = (): never => {
    throw runtimeError(`Unable to convert [${digits}] to number of base [${radix}]`, span);
  };
  if (radix === 10) {
    if (!DECIMAL.test(digits)) fail();
    if (/^[+-]?\d+$/.test(digits)) {
      const n = Number(digits);
      return Number.isSafeInteger(n) ? n : fromLong(BigInt(digits), span);
    }
    return Number(digits);
  }
  if (radix < 2 || radix > 36) fail();
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz".slice(0, radix);
  const m = /^([+-]?)(.+)$/.exec(digits);
  if (!m || ![...m[2].toLowerCase()].every((c) => alphabet.includes(c))) fail();
  const value = Number.parseInt(digits, radix);
  // Java's Integer.parseInt: 32-bit.
  if (!Number.isFinite(value) || value > 2147483647 || value < -2147483648) fail();
  return value;
}

/**
 * `s.toLowerCase().startsWith(prefix)` for a lower-cased `prefix`, without lower-casing `s` when the
 * compared characters are ASCII (lower-casing ASCII is per character and keeps positions).
 */
function foldedStartsWith(s: string, prefix: string): boolean {
  const n = prefix.length;
  if (s.length < n) return s.toLowerCase().startsWith(prefix);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const p = prefix.charCodeAt(i);
    if (c >= 128 || p >= 128) return s.toLowerCase().startsWith(prefix);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== p) return false;
  }
  return true;
}

/**
 * `s.toLowerCase().endsWith(suffix)` for a lower-cased `suffix`, ASCII without allocating. Compared from the
 * end: positions from the end agree only while every character to their right lower-cases one to one
 * (`İ` becomes two), which the ASCII checks so far guarantee.
 */
function foldedEndsWith(s: string, suffix: string): boolean {
  const n = suffix.length;
  const offset = s.length - n;
  if (offset < 0) return s.toLowerCase().endsWith(suffix);
  for (let i = n - 1; i >= 0; i--) {
    const c = s.charCodeAt(offset + i);
    const p = suffix.charCodeAt(i);
    if (c >= 128 || p >= 128) return s.toLowerCase().endsWith(suffix);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== p) return false;
  }
  return true;
}

/**
 * The implementation of one function call (name lower-cased). Throws for an unknown name (the
 * verifier reports those before).
 */
export function buildFunction(context: FunctionContext): FunctionImpl {
  const { caseInsensitive: ci, hints, span } = context;
  switch (context.name) {
    case "add":
      return ([a, b]) => arithmetic("+", a, b, hints[0], hints[1], span);
    case "subtract":
      return ([a, b]) => arithmetic("-", a, b, hints[0], hints[1], span);
    case "multiply":
      return ([a, b]) => arithmetic("*", a, b, hints[0], hints[1], span);
    case "divide":
      return ([a, b]) => arithmetic("/", a, b, hints[0], hints[1], span);
    case "modulo":
      return ([a, b]) => arithmetic("%", a, b, hints[0], hints[1], span);
    case "between":
      return ([source, left, right, greedy]) => {
        const s = str(source);
        const l = str(left);
        const r = str(right);
        if (s === null || l === null || r === null) return null;
        return between(s, l, r, greedy === true, ci);
      };
    case "cidrmatch": {
      const blocks = context.constants.slice(1).map((c) => {
        const text = str(c ?? null);
        const test = text === null ? undefined : compileCidr(text);
        if (!test) throw runtimeError(`Invalid CIDR block [${String(text)}]`, span);
        return test;
      });
      return ([ip]) => {
        const s = str(ip);
        if (s === null) return null;
        const key = ipKey(s);
        if (key === undefined) return false;
        return blocks.some((test) => test(key));
      };
    }
    case "concat":
      return (args) => {
        let out = "";
        for (let i = 0; i < args.length; i++) {
          const t = scalarText(args[i], hints[i]);
          if (t === null) return null;
          out += t;
        }
        return out;
      };
    case "endswith": {
      const constant = context.constants[1];
      if (ci && typeof constant === "string") {
        const suffix = lower(constant, true);
        return ([source]) => {
          const s = str(source);
          return s === null ? null : foldedEndsWith(s, suffix);
        };
      }
      return ([source, suffix]) => {
        const s = str(source);
        const p = str(suffix);
        if (s === null || p === null) return null;
        return lower(s, ci).endsWith(lower(p, ci));
      };
    }
    case "startswith": {
      const constant = context.constants[1];
      if (ci && typeof constant === "string") {
        const prefix = lower(constant, true);
        return ([source]) => {
          const s = str(source);
          return s === null ? null : foldedStartsWith(s, prefix);
        };
      }
      return ([source, prefix]) => {
        const s = str(source);
        const p = str(prefix);
        if (s === null || p === null) return null;
        return lower(s, ci).startsWith(lower(p, ci));
      };
    }
    case "stringcontains":
      return ([source, needle]) => {
        const s = str(source);
        const p = str(needle);
        if (s === null || p === null) return null;
        return lower(s, ci).includes(lower(p, ci));
      };
    case "indexof":
      return ([source, needle, start]) => {
        const s = str(source);
        const p = str(needle);
        if (s === null || p === null) return null;
        const from = integerArg(start ?? null, "start", span) ?? 0;
        const at = indexOfFrom(lower(s, ci), lower(p, ci), from);
        return at < 0 ? null : at;
      };
    case "length":
      return ([source]) => {
        const s = str(source);
        return s === null ? null : s.length;
      };
    case "number":
      return ([source, base]) => toNumber(source, base ?? null, span);
    case "string":
      return ([value]) => scalarText(value, hints[0]);
    case "substring":
      return ([source, start, end]) => {
        const s = str(source);
        if (s === null) return null;
        return substring(s, integerArg(start ?? null, "start", span), integerArg(end ?? null, "end", span));
      };
    default:
      throw runtimeError(`Unknown function [${context.name}]`, span);
  }
}
