/**
 * Suite `kql/detection-rules`: the vectors of elastic/detection-rules' Python `kql` package
 * (../shared/conformance/kql/detection-rules-vectors.json).
 *
 * - `evaluate`: every vector, through `compileKql` over the inline document. The documents' field types:
 *   `ip` is mapped as `ip` (the tests treat it as one); everything else is typed by dynamic mapping.
 * - `parse`, `parse_ok`, `parse_error`, `parse_shape`, `to_dsl`, `to_dsl_not`, `field_names`,
 *   `normalize_keywords`: compared where detection-rules and Kibana agree. The Python package builds a
 *   different tree (typed `Number` nodes, value lists kept whole) and optimised DSL, so trees and DSL are
 *   compared in a normal form that removes exactly the differences the README lists: the DSL as a
 *   boolean formula (bool wrappers, flattening and `must_not` lists do not matter; a JSON number or
 *   boolean equals its text, as Elasticsearch reads them), trees with numbers compared by value. A vector
 *   where the two really differ (a README-listed difference the normal form cannot remove) is skipped
 *   with the reason.
 * - `kql2eql`, `kql2eql_error`, `eql2kql` (python-eql dialect), `lint` and `parse_equivalent`
 *   (detection-rules' own optimiser and tree equality) are out of scope: skipped with the reason.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { isQuarryError } from "../../../src/diagnostics/index.js";
import type { EventRecord, JsonObject, JsonValue } from "../../../src/events/types.js";
import {
  compileKql,
  KQL_WILDCARD_SYMBOL,
  type KqlNode,
  type KqlQuery,
  kqlFieldPaths,
  parseKql,
  spanOf,
  toDsl,
  type ValueNode,
} from "../../../src/kql/index.js";
import { ecsSchema, layeredSchema, parseMapping, type Schema } from "../../../src/schema/index.js";
import type { CaseResult, SuiteReport } from "../harness.js";

interface Vector {
  readonly id: string;
  readonly kind: string;
  readonly query?: string;
  readonly options?: { readonly schema?: Record<string, string>; readonly optimize?: boolean };
  readonly [key: string]: unknown;
}

type Outcome = { status: "passed" } | { status: "failed" | "skipped"; reason: string };

const passed: Outcome = { status: "passed" };
const skip = (reason: string): Outcome => ({ status: "skipped", reason });
const fail = (reason: string): Outcome => ({ status: "failed", reason });

const EVALUATE_SCHEMA = layeredSchema(
  parseMapping(JSON.stringify({ properties: { ip: { type: "ip" } } })),
  ecsSchema(),
);

export async function run(shared: string): Promise<readonly SuiteReport[]> {
  const file = join(shared, "conformance/kql/detection-rules-vectors.json");
  const vectors = JSON.parse(readFileSync(file, "utf8")) as Vector[];
  const cases: CaseResult[] = vectors.map((vector) => {
    const name = `${vector.id} ${vector.kind}`;
    let outcome: Outcome;
    try {
      outcome = check(vector);
    } catch (error) {
      outcome = fail(`threw ${describe(error)}`);
    }
    return outcome.status === "passed"
      ? { name, status: "passed" }
      : { name, status: outcome.status, reason: outcome.reason };
  });
  return [{ suite: "kql/detection-rules", cases }];
}

function describe(error: unknown): string {
  return isQuarryError(error) ? `${error.diagnostic.code} ${error.diagnostic.title}` : String(error);
}

function schemaFrom(spec: Record<string, string> | undefined): Schema {
  if (!spec) return ecsSchema();
  const properties = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  return layeredSchema(parseMapping(JSON.stringify({ properties })), ecsSchema());
}

function tryParse(query: string): KqlQuery | Error {
  try {
    return parseKql(query);
  } catch (error) {
    if (isQuarryError(error)) return error;
    throw error;
  }
}

/** Kibana ends an unquoted value before `not` + whitespace, where detection-rules reads on (README). */
const NOT_INSIDE_VALUE = /[^\s(]not\s|:\s*not\s/i;

function check(v: Vector): Outcome {
  switch (v.kind) {
    case "evaluate": {
      const query = compileKql(v.query as string, { schema: EVALUATE_SCHEMA });
      const event: EventRecord = {
        source: v.document as JsonObject,
        raw: JSON.stringify(v.document),
        index: "detection-rules",
        id: v.id,
        provenance: { file: "detection-rules-vectors.json" },
        seq: 0,
      };
      const got = query.matches?.(event);
      return got === v.expect_match ? passed : fail(`matched ${got}, expected ${v.expect_match}`);
    }
    case "parse_ok": {
      const parsed = tryParse(v.query as string);
      if (parsed instanceof Error) return fail(`does not parse: ${parsed.message}`);
      if (v.options?.schema) compileKql(v.query as string, { schema: schemaFrom(v.options.schema) });
      return passed;
    }
    case "parse_error":
      return checkParseError(v);
    case "parse":
      return checkParse(v);
    case "parse_shape":
      return checkShape(v);
    case "to_dsl":
    case "to_dsl_not":
      return checkDsl(v);
    case "field_names": {
      const got = kqlFieldPaths(parseKql(v.query as string));
      return isDeepStrictEqual(got, v.expect_fields) ? passed : fail(`got ${JSON.stringify(got)}`);
    }
    case "normalize_keywords": {
      // detection-rules needs an option to accept upper-case keywords; Kibana reads them as keywords.
      const upper = parseKql(v.query as string);
      const lower = parseKql((v.query as string).replace(/\b(AND|OR|NOT)\b/g, (k) => k.toLowerCase()));
      return isDeepStrictEqual(upper, lower) ? passed : fail("upper-case keywords parse differently");
    }
    case "kql2eql":
    case "kql2eql_error":
    case "eql2kql":
      return skip("KQL <-> EQL conversion in the python-eql dialect: out of scope");
    case "lint":
      return skip("detection-rules' own optimiser output (kql.lint); Kibana has no equivalent");
    case "parse_equivalent":
      return skip("detection-rules' tree equality ignores value-list order; Kibana's node JSON keeps it");
    default:
      return fail(`unknown vector kind ${v.kind}`);
  }
}

function checkParseError(v: Vector): Outcome {
  const query = v.query as string;
  if (/\b(AND|OR|NOT)\b/.test(query) && !v.options?.schema) {
    const parsed = tryParse(query);
    if (parsed instanceof Error)
      return fail(`Kibana accepts upper-case keywords, but this failed: ${parsed.message}`);
    return skip("detection-rules rejects upper-case AND/OR/NOT; Kibana accepts them (README)");
  }
  if (v.options?.schema) {
    // detection-rules checks values against a schema while parsing. Quarry does so when compiling, for the
    // cases Elasticsearch itself rejects.
    const parsed = tryParse(query);
    if (parsed instanceof Error) return passed;
    try {
      compileKql(query, { schema: schemaFrom(v.options.schema) });
    } catch (error) {
      if (isQuarryError(error)) return passed;
      throw error;
    }
    return skip(
      "detection-rules' parse-time schema check; Kibana parses it and Elasticsearch accepts the query (README)",
    );
  }
  const parsed = tryParse(query);
  return parsed instanceof Error
    ? passed
    : fail("parsed, but detection-rules and Kibana's grammar reject it");
}

// ---- trees ----------------------------------------------------------------------------------------

interface DrNode {
  readonly node: string;
  readonly args: readonly unknown[];
  readonly kwargs?: Record<string, unknown>;
}

const RANGE_OPS: Record<string, string> = { "<": "lt", "<=": "lte", ">": "gt", ">=": "gte" };

/** A normal form both trees map to: field text, value kind and text, operators; numbers by value. */
type Norm = JsonValue;

function normValueDr(value: DrNode): Norm {
  switch (value.node) {
    case "String":
      return { s: String(value.args[0]) };
    case "Number":
      return { n: Number(value.args[0]) };
    case "Boolean":
      return { b: value.args[0] as boolean };
    case "Null":
      return { null: true };
    case "Wildcard":
      return { w: String(value.args[0]).split("*") };
    case "Exists":
      return { exists: true };
    default:
      throw new Error(`unexpected value node ${value.node}`);
  }
}

function normDr(node: DrNode, field: string | null = null): Norm {
  switch (node.node) {
    case "FieldComparison":
      return normDr(node.args[1] as DrNode, String((node.args[0] as DrNode).args[0]));
    case "FreeText":
      return normDr(node.args[0] as DrNode, null);
    case "AndExpr":
    case "AndValues":
      return { and: (node.args[0] as DrNode[]).map((n) => normDr(n, field)) };
    case "OrExpr":
    case "OrValues":
      return { or: (node.args[0] as DrNode[]).map((n) => normDr(n, field)) };
    case "NotExpr":
    case "NotValue":
      return { not: normDr(node.args[0] as DrNode, field) };
    case "FieldRange":
      return {
        range: String((node.args[0] as DrNode).args[0]),
        op: RANGE_OPS[node.args[1] as string] ?? String(node.args[1]),
        value: normValueDr(node.args[2] as DrNode),
      };
    case "NestedQuery":
      return { nested: String((node.args[0] as DrNode).args[0]), query: normDr(node.args[1] as DrNode) };
    default:
      return { is: field, value: normValueDr(node) };
  }
}

function normValueOurs(value: ValueNode, freeText = false): Norm {
  if (value.type === "wildcard") {
    if (value.value === KQL_WILDCARD_SYMBOL && !freeText) return { exists: true };
    return { w: value.value.split(KQL_WILDCARD_SYMBOL) };
  }
  if (value.value === null) return { null: true };
  if (typeof value.value === "boolean") return { b: value.value };
  return { s: String(value.value) };
}

function fieldTextOf(field: ValueNode): string | null {
  if (field.type === "wildcard") return field.value.split(KQL_WILDCARD_SYMBOL).join("*");
  return field.value === null ? null : String(field.value);
}

function normOurs(node: KqlNode): Norm {
  if (node.type !== "function") throw new Error("expected a function node");
  switch (node.function) {
    case "is":
      return {
        is: fieldTextOf(node.arguments[0]),
        value: normValueOurs(node.arguments[1], fieldTextOf(node.arguments[0]) === null),
      };
    case "range":
      return {
        range: fieldTextOf(node.arguments[0]),
        op: node.arguments[1],
        value: normValueOurs(node.arguments[2]),
      };
    case "exists":
      return { is: fieldTextOf(node.arguments[0]), value: { exists: true } };
    case "nested":
      return { nested: fieldTextOf(node.arguments[0]), query: normOurs(node.arguments[1]) };
    case "and":
      return { and: node.arguments.map(normOurs) };
    case "or":
      return { or: node.arguments.map(normOurs) };
    case "not":
      return { not: normOurs(node.arguments[0]) };
  }
}

/** Equal, where a detection-rules `Number` equals Kibana's text of that number (README: unquoted numbers). */
function sameNorm(dr: Norm, ours: Norm): boolean {
  if (Array.isArray(dr) || Array.isArray(ours)) {
    return (
      Array.isArray(dr) &&
      Array.isArray(ours) &&
      dr.length === ours.length &&
      dr.every((d, i) => sameNorm(d, ours[i]))
    );
  }
  if (typeof dr === "object" && dr !== null && typeof ours === "object" && ours !== null) {
    if ("n" in dr && "s" in ours) return Number(ours.s) === dr.n && (ours.s as string).trim() !== "";
    const keys = Object.keys(dr);
    return (
      keys.length === Object.keys(ours).length &&
      keys.every((k) => k in ours && sameNorm(dr[k] as Norm, ours[k] as Norm))
    );
  }
  return dr === ours;
}

function hasEscapedStar(node: KqlNode): boolean {
  if (node.type === "wildcard")
    return node.value.split(KQL_WILDCARD_SYMBOL).some((piece) => piece.includes("*"));
  if (node.type === "literal") return false;
  return node.arguments.some((arg) => typeof arg === "object" && hasEscapedStar(arg));
}

function checkParse(v: Vector): Outcome {
  const parsed = tryParse(v.query as string);
  if (parsed instanceof Error) {
    if (NOT_INSIDE_VALUE.test(v.query as string)) {
      return skip(
        "Kibana's grammar ends an unquoted value before `not` + whitespace (README); detection-rules reads on",
      );
    }
    return fail(`does not parse: ${parsed.message}`);
  }
  const dr = normDr(v.expect_ast as DrNode);
  const ours = normOurs(parsed);
  if (sameNorm(dr, ours)) return passed;
  if (hasEscapedStar(parsed))
    return skip("detection-rules loses an escaped `\\*` inside a wildcard value (README)");
  return fail(`normal forms differ: detection-rules ${JSON.stringify(dr)}, Quarry ${JSON.stringify(ours)}`);
}

/**
 * Detection-rules' tree classes for a parsed query, enough for the `parse_shape` paths: `field: not v`
 * is a FieldComparison holding a NotValue (told apart from `not field:v` by where the `not` starts).
 */
function drShape(node: KqlQuery): Record<string, unknown> {
  switch (node.function) {
    case "is": {
      const [field, value] = node.arguments;
      if (field.type === "literal" && field.value === null)
        return { type: "FreeText", value: drValue(value) };
      return { type: "FieldComparison", value: drValue(value) };
    }
    case "not": {
      const inner = node.arguments[0];
      if (inner.function === "is") {
        const fieldSpan = spanOf(inner.arguments[0]);
        const notSpan = spanOf(node);
        if (fieldSpan && notSpan && notSpan.start > fieldSpan.start) {
          return { type: "FieldComparison", value: { type: "NotValue", value: drValue(inner.arguments[1]) } };
        }
      }
      return { type: "NotExpr", expr: drShape(inner) };
    }
    case "and":
      return { type: "AndExpr" };
    case "or":
      return { type: "OrExpr" };
    case "nested":
      return { type: "NestedQuery", expr: drShape(node.arguments[1]) };
    case "range":
      return { type: "FieldRange" };
    case "exists":
      return { type: "FieldComparison", value: { type: "Exists" } };
  }
}

function drValue(value: ValueNode): Record<string, unknown> {
  if (value.type === "wildcard") {
    if (value.value === KQL_WILDCARD_SYMBOL) return { type: "Exists" };
    return { type: "Wildcard", value: value.value.split(KQL_WILDCARD_SYMBOL).join("*") };
  }
  return {
    type: typeof value.value === "boolean" ? "Boolean" : value.value === null ? "Null" : "String",
    value: value.value,
  };
}

function checkShape(v: Vector): Outcome {
  const parsed = tryParse(v.query as string);
  if (parsed instanceof Error) {
    if (NOT_INSIDE_VALUE.test(v.query as string)) {
      return skip(
        "`not` inside a field's value needs parentheses in Kibana's grammar (`f:(not x)`, `not (not x)`); detection-rules accepts it",
      );
    }
    return fail(`does not parse: ${parsed.message}`);
  }
  let at: unknown = drShape(parsed);
  for (const step of ((v.path as string | undefined) ?? "").split(".").filter(Boolean)) {
    at = (at as Record<string, unknown> | undefined)?.[step];
  }
  const node = at as Record<string, unknown> | undefined;
  if ("expect_type" in v) return node?.type === v.expect_type ? passed : fail(`type ${String(node?.type)}`);
  const value = typeof at === "object" && at !== null ? (at as Record<string, unknown>).value : at;
  return value === v.expect_value ? passed : fail(`value ${JSON.stringify(value)}`);
}

// ---- DSL ------------------------------------------------------------------------------------------

/** A query as a boolean formula: and/or/not over leaf queries, flattened, single children collapsed. */
type Formula =
  | { readonly op: "and" | "or"; readonly items: Formula[] }
  | { readonly op: "not"; readonly item: Formula }
  | { readonly leaf: JsonValue };

function asList(value: JsonValue | undefined): JsonValue[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function formula(query: JsonValue): Formula {
  if (typeof query === "object" && query !== null && !Array.isArray(query)) {
    const keys = Object.keys(query);
    if (keys.length === 1 && keys[0] === "bool") {
      const bool = query.bool as JsonObject;
      const all: Formula[] = [...asList(bool.filter), ...asList(bool.must)].map(formula);
      const should = asList(bool.should).map(formula);
      if (should.length > 0) all.push(make("or", should));
      for (const negated of asList(bool.must_not)) all.push({ op: "not", item: formula(negated) });
      return make("and", all);
    }
    if (keys.length === 1 && keys[0] === "nested") {
      const nested = query.nested as JsonObject;
      return {
        leaf: { nested: { path: nested.path ?? null, query: JSON.stringify(formula(nested.query)) } },
      };
    }
  }
  return { leaf: scalarsAsText(query) };
}

function make(op: "and" | "or", items: Formula[]): Formula {
  const flat: Formula[] = [];
  for (const item of items) {
    if ("op" in item && item.op === op) flat.push(...item.items);
    else flat.push(item);
  }
  // and/or are commutative: order the items so clause order does not matter.
  flat.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return flat.length === 1 ? flat[0] : { op, items: flat };
}

/** Elasticsearch reads a JSON number or boolean query value the same as its text. */
function scalarsAsText(value: JsonValue): JsonValue {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map(scalarsAsText);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scalarsAsText(v)]));
  }
  return value;
}

function checkDsl(v: Vector): Outcome {
  const query = v.query as string;
  const parsed = tryParse(query);
  if (parsed instanceof Error) return fail(`does not parse: ${parsed.message}`);
  const ours = formula(toDsl(parsed));
  if (v.kind === "to_dsl_not") {
    const not = formula(v.expect_dsl_not as JsonValue);
    return isDeepStrictEqual(ours, not) ? fail("equals the DSL detection-rules says it must not be") : passed;
  }
  const expected = formula(v.expect_dsl as JsonValue);
  if (isDeepStrictEqual(ours, expected)) return passed;
  const phraseAsMatch = formula(
    JSON.parse(JSON.stringify(toDsl(parsed)).replaceAll('"match_phrase":', '"match":')),
  );
  if (isDeepStrictEqual(phraseAsMatch, expected)) {
    return skip("Kibana sends match_phrase for a quoted value; detection-rules sends match");
  }
  if (/(^|[\s:(])null(\s|\)|$)/.test(query)) {
    return skip(
      'Kibana reads unquoted null as a null literal and sends `query: null`; detection-rules sends "null"',
    );
  }
  return fail(
    `DSL differs as a formula: detection-rules ${JSON.stringify(expected)}, Quarry ${JSON.stringify(ours)}`,
  );
}
