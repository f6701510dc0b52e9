/**
 * Generators for the differential tests: events serialised with random JSON escapes, dotted or nested keys,
 * arrays and case variations; EQL and KQL queries over the same fields and words.
 */
import { escapeKuery } from "../../src/kql/index.js";
import fc from "../fc.js";

/** Words values and queries are made of: case variants, escapes, non-ASCII, number- and boolean-like text. */
export const WORDS = [
  "cmd.exe",
  "CMD.EXE",
  "powershell.exe",
  "raw.githubusercontent.com",
  "RAW.GitHubUserContent.com",
  "3CXDesktopApp.exe",
  "C:\\Windows\\System32\\cmd.exe",
  "c:\\windows\\temp\\evil.dll",
  "http://x.com/a/b",
  "a/b",
  "\u212Aelvin",
  "kelvin",
  "KELVIN",
  "\u0130stanbul",
  "istanbul",
  "caf\u00e9",
  "CAF\u00c9",
  "\u{1F600}smile",
  "tab\there",
  'quote"d',
  "back\\slash",
  "true",
  "false",
  "100",
  "1e2",
  "5",
  "process",
  "network",
  "file",
  "end",
  "",
  "ab",
  "x",
  "hello world",
  "Hello-World",
];

export const FIELDS = [
  "process.name",
  "process.parent.name",
  "dns.question.name",
  "file.path",
  "user.name",
  "message",
  "x.note",
  "x.count",
];

/** A small deterministic PRNG for serialisation choices. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/** JSON text of a string with random (valid) escapes: `\uXXXX` in either hex case, `\/`, short escapes. */
export function escapeString(s: string, rnd: () => number): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    const r = rnd();
    const u = (code: number) => {
      const hex = code.toString(16).padStart(4, "0");
      return `\\u${rnd() < 0.5 ? hex : hex.toUpperCase()}`;
    };
    if (ch === '"') out += r < 0.8 ? '\\"' : u(c);
    else if (ch === "\\") out += r < 0.8 ? "\\\\" : u(c);
    else if (c < 0x20) out += ch === "\n" && r < 0.5 ? "\\n" : ch === "\t" && r < 0.5 ? "\\t" : u(c);
    else if (ch === "/" && r < 0.3) out += "\\/";
    else if (r < 0.1) {
      if (c > 0xffff) {
        const hi = Math.floor((c - 0x10000) / 0x400) + 0xd800;
        const lo = ((c - 0x10000) % 0x400) + 0xdc00;
        out += u(hi) + u(lo);
      } else out += u(c);
    } else out += ch;
  }
  return `${out}"`;
}

export type Value = string | number | boolean | null | Value[];

function numberText(n: number, rnd: () => number): string {
  if (Number.isInteger(n) && rnd() < 0.3) return `${n}.0`;
  if (n === 100 && rnd() < 0.5) return "1e2";
  return String(n);
}

function valueText(v: Value, rnd: () => number): string {
  if (v === null) return "null";
  if (typeof v === "string") return escapeString(v, rnd);
  if (typeof v === "number") return numberText(v, rnd);
  if (typeof v === "boolean") return String(v);
  return `[${v.map((x) => valueText(x, rnd)).join(",")}]`;
}

interface Tree {
  [key: string]: Tree | Value;
}

/** One NDJSON line for a flat field map: dotted keys or nested objects, chosen at random per field. */
export function serialiseEvent(fields: ReadonlyMap<string, Value>, seed: number): string {
  const rnd = prng(seed);
  const root: Tree = {};
  for (const [path, value] of fields) {
    const segments = path.split(".");
    // Nest at a random depth, then a dotted key for the rest.
    const depth = Math.floor(rnd() * segments.length);
    let node = root;
    let ok = true;
    for (let i = 0; i < depth; i++) {
      const child = node[segments[i]];
      if (child === undefined) node[segments[i]] = {};
      else if (typeof child !== "object" || child === null || Array.isArray(child)) {
        ok = false;
        break;
      }
      node = node[segments[i]] as Tree;
    }
    const key = ok ? segments.slice(depth).join(".") : path;
    if (ok && node[key] === undefined) node[key] = value;
    else if (root[path] === undefined) root[path] = value;
  }
  const write = (t: Tree): string =>
    `{${Object.entries(t)
      .map(([k, v]) => {
        const isTree = typeof v === "object" && v !== null && !Array.isArray(v);
        return `${escapeString(k, rnd)}:${isTree ? write(v as Tree) : valueText(v as Value, rnd)}`;
      })
      .join(",")}}`;
  return write(root);
}

/** A word with random letter case and sometimes a random character (ASCII, non-ASCII, escape-worthy). */
const wordArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...WORDS) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...WORDS), fc.array(fc.boolean(), { maxLength: 30 }))
      .map(([w, flips]) =>
        [...w]
          .map((ch, i) => (flips[i] ? (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) : ch))
          .join(""),
      ),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...WORDS),
        fc.constantFrom("\u212A", "\u0130", "\u017F", "\u00e9", "/", "\\", '"', "\n", "K", "k"),
      )
      .map(([w, c]) => w + c),
  },
);

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: wordArb },
  { weight: 1, arbitrary: fc.constantFrom<Value>(5, 100, 1.5, -3, true, false, null) },
  { weight: 1, arbitrary: fc.array(wordArb, { maxLength: 3 }) },
);

const categoryArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom<Value>("process", "network", "file", "Process", ["process"], ["network", "file"]),
  wordArb,
);

export interface GeneratedEvent {
  readonly fields: ReadonlyMap<string, Value>;
  readonly seed: number;
}

export const eventArb: fc.Arbitrary<GeneratedEvent> = fc
  .record({
    category: fc.option(categoryArb, { nil: undefined }),
    host: fc.constantFrom("h1", "h2"),
    values: fc.array(fc.tuple(fc.constantFrom(...FIELDS), valueArb), { maxLength: 5 }),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
  })
  .map(({ category, host, values, seed }) => {
    const fields = new Map<string, Value>();
    if (category !== undefined) fields.set("event.category", category);
    fields.set("host.id", host);
    for (const [f, v] of values) fields.set(f, v);
    return { fields, seed };
  });

/** Lines with increasing timestamps. */
export function linesOf(events: readonly GeneratedEvent[]): string[] {
  return events.map((e, i) => {
    const fields = new Map(e.fields);
    fields.set("@timestamp", new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString());
    return serialiseEvent(fields, e.seed);
  });
}

// ---------------------------------------------------------------------------------------------------
// EQL

/** An EQL string literal for any text. */
export function eqlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16).padStart(2, "0")}}`;
    else out += ch;
  }
  return `${out}"`;
}

const patternArb: fc.Arbitrary<string> = fc
  .tuple(wordArb, fc.array(fc.tuple(fc.nat(40), fc.constantFrom("*", "?")), { maxLength: 3 }))
  .map(([w, cuts]) => {
    let s = w;
    for (const [at, c] of cuts) {
      const i = at % (s.length + 1);
      s = s.slice(0, i) + c + s.slice(i);
    }
    return s;
  });

const stringFieldArb = fc.constantFrom(...FIELDS.filter((f) => f !== "x.count"), "event.category");

const eqlPredicateArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(stringFieldArb, fc.constantFrom("==", "!=", ":", "like", "like~"), patternArb)
    .map(([f, op, v]) => `${f} ${op} ${eqlString(op === "==" || op === "!=" ? v.replace(/[*?]/g, "") : v)}`),
  fc
    .tuple(stringFieldArb, fc.constantFrom("==", ":", "like~"), wordArb)
    .map(([f, op, v]) => `${f} ${op} ${eqlString(v)}`),
  fc
    .tuple(
      stringFieldArb,
      fc.constantFrom("in", "in~", "not in", ":"),
      fc.array(wordArb, { minLength: 1, maxLength: 4 }),
    )
    .map(([f, op, vs]) => `${f} ${op} (${vs.map(eqlString).join(", ")})`),
  fc
    .tuple(fc.constantFrom("startsWith", "endsWith", "stringContains"), fc.boolean(), stringFieldArb, wordArb)
    .map(([fn, ci, f, v]) => `${fn}${ci ? "~" : ""}(${f}, ${eqlString(v)})`),
  fc.tuple(stringFieldArb, fc.constantFrom("== null", "!= null")).map(([f, t]) => `${f} ${t}`),
  fc.constantFrom(
    "x.count > 3",
    "x.count == 5",
    "x.count : 100",
    "x.note : 100",
    'x.note == "100"',
    "x.note : true",
    'x.note : "tr*"',
    "x.note == true",
    'process.name regex~ ".*exe"',
    '?x.missing == "a"',
    "length(process.name) > 3",
    "true",
    'x.note : "1*"',
  ),
);

export const eqlConditionArb: fc.Arbitrary<string> = fc.letrec<{ cond: string }>((tie) => ({
  cond: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    eqlPredicateArb,
    fc.tuple(tie("cond"), fc.constantFrom("and", "or"), tie("cond")).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie("cond").map((c) => `not ${c}`),
  ),
})).cond;

const categoryNameArb = fc.constantFrom("process", "network", "file", "any", "Process");

const eventQueryArb = fc.tuple(categoryNameArb, eqlConditionArb).map(([c, cond]) => `${c} where ${cond}`);

export const eqlQueryArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: eventQueryArb },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(eventQueryArb, { minLength: 2, maxLength: 3 }), fc.option(eventQueryArb), fc.boolean())
      .map(
        ([stages, until, missing]) =>
          `sequence by host.id ${stages.map((s, i) => (missing && i === 1 && stages.length === 3 ? `![${s}]` : `[${s}]`)).join(" ")}${until ? ` until [${until}]` : ""}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(eventQueryArb, { minLength: 2, maxLength: 2 })
      .map((stages) => `sample by host.id ${stages.map((s) => `[${s}]`).join(" ")}`),
  },
);

// ---------------------------------------------------------------------------------------------------
// KQL

function kqlValue(v: string, quoted: boolean): string {
  return quoted ? `"${v.replace(/[\\"]/g, "\\$&")}"` : escapeKuery(v) || '""';
}

const kqlFieldArb = fc.constantFrom(...FIELDS, "event.category", "*.name");

const kqlLeafArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(kqlFieldArb, wordArb, fc.boolean()).map(([f, v, q]) => `${f}: ${kqlValue(v, q)}`),
  fc.tuple(kqlFieldArb, wordArb, fc.nat(30), fc.boolean()).map(([f, v, at, lead]) => {
    const i = at % (v.length + 1);
    const body = escapeKuery(v.slice(0, i)) + "*" + escapeKuery(v.slice(i));
    return `${f}: ${lead ? "*" : ""}${body}`;
  }),
  fc.tuple(wordArb, fc.boolean()).map(([v, q]) => kqlValue(v, q)),
  fc
    .tuple(kqlFieldArb, fc.array(wordArb, { minLength: 1, maxLength: 5 }))
    .map(([f, vs]) => `${f}: (${vs.map((v) => kqlValue(v, true)).join(" or ")})`),
  fc.constantFrom("x.count > 3", "x.count: 5", "x.note: 100", "x.note: true", "x.note: *", "not x.note: *"),
);

export const kqlQueryArb: fc.Arbitrary<string> = fc.letrec<{ q: string }>((tie) => ({
  q: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    kqlLeafArb,
    fc.tuple(tie("q"), fc.constantFrom("and", "or"), tie("q")).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie("q").map((c) => `not (${c})`),
  ),
})).q;
