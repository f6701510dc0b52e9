/**
 * Suite `kql/kibana`: every vector in ../shared/conformance/kql/kibana-vectors.json (Kibana's own KQL
 * tests plus grammar-derived cases): parse -> exact node JSON, syntax errors -> exact KQLSyntaxError text,
 * translation -> exact Query DSL, and the helper contracts (escaping, wildcard helpers, field lookup,
 * free-text detection, buildQueryFromKuery).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { isQuarryError } from "../../../src/diagnostics/index.js";
import type { JsonValue } from "../../../src/events/types.js";
import {
  buildQueryFromKuery,
  escapeKuery,
  escapeQuotes,
  getFields,
  getFullFieldNameNode,
  isKqlFreeText,
  type KibanaDataView,
  type KqlNode,
  KqlSyntaxError,
  parseKql,
  parseKqlLiteral,
  type ToDslOptions,
  toDsl,
  toKqlExpression,
  type ValueNode,
  wildcardFromPattern,
  wildcardHasLeading,
  wildcardTest,
  wildcardToElasticsearchQuery,
  wildcardToQueryStringQuery,
} from "../../../src/kql/index.js";
import type { CaseResult, SuiteReport } from "../harness.js";

interface Vector {
  readonly id: string;
  readonly kind: string;
  readonly [key: string]: unknown;
}

export async function run(shared: string): Promise<readonly SuiteReport[]> {
  const dir = join(shared, "conformance/kql");
  const vectors = JSON.parse(readFileSync(join(dir, "kibana-vectors.json"), "utf8")) as Vector[];
  const stub = JSON.parse(
    readFileSync(join(dir, "kibana-index-pattern-stub.json"), "utf8"),
  ) as KibanaDataView;
  const cases: CaseResult[] = vectors.map((vector) => {
    const name = `${vector.id} ${vector.kind}`;
    try {
      const problem = check(vector, stub);
      return problem === undefined ? { name, status: "passed" } : { name, status: "failed", reason: problem };
    } catch (error) {
      return { name, status: "failed", reason: `threw ${describe(error)}` };
    }
  });
  return [{ suite: "kql/kibana", cases }];
}

function describe(error: unknown): string {
  if (error instanceof KqlSyntaxError) return `KqlSyntaxError ${JSON.stringify(error.kibanaMessage)}`;
  if (isQuarryError(error))
    return `QuarryError ${error.diagnostic.code} ${JSON.stringify(error.diagnostic.title)}`;
  return String(error);
}

function dataViewFor(spec: unknown, stub: KibanaDataView): KibanaDataView | undefined {
  if (spec === null || spec === undefined) return undefined;
  if (spec === "kibana-stub-fields") return stub;
  if (typeof spec === "object") return spec as KibanaDataView;
  throw new Error(`unknown index_pattern ${JSON.stringify(spec)}`);
}

function differs(what: string, actual: unknown, expected: unknown): string | undefined {
  return isDeepStrictEqual(actual, expected)
    ? undefined
    : `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
}

/** The error a call throws, as text: Kibana's message for syntax errors, the title for other diagnostics. */
function thrownText(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof KqlSyntaxError) return error.kibanaMessage;
    if (isQuarryError(error)) return error.diagnostic.title;
    throw error;
  }
}

function dslOptions(v: Vector, stub: KibanaDataView): ToDslOptions {
  const config = (v.config ?? {}) as Record<string, unknown>;
  return {
    dataView: dataViewFor(v.index_pattern, stub),
    ...config,
    ...(v.context ? { context: v.context as ToDslOptions["context"] } : {}),
  };
}

function check(v: Vector, stub: KibanaDataView): string | undefined {
  switch (v.kind) {
    case "parse": {
      const ast = parseKql(v.query as string, (v.parse_options ?? {}) as { allowLeadingWildcards?: boolean });
      return differs("ast", ast, v.expect_ast);
    }
    case "parse_literal": {
      const node = parseKqlLiteral(v.query as string);
      if ("expect_ast" in v) return differs("literal", node, v.expect_ast);
      const valueProblem = differs("value", node.value, v.expect_value);
      if (valueProblem) return valueProblem;
      if ("expect_is_quoted" in v) {
        return differs("isQuoted", node.type === "literal" ? node.isQuoted : undefined, v.expect_is_quoted);
      }
      return undefined;
    }
    case "parse_error": {
      const text = thrownText(() =>
        parseKql(v.query as string, (v.parse_options ?? {}) as { allowLeadingWildcards?: boolean }),
      );
      return differs("error", text, v.expect_error);
    }
    case "to_dsl":
      return checkToDsl(v, stub);
    case "to_dsl_error": {
      const options = dslOptions(v, stub);
      const text = thrownText(() => toDsl((v.node as KqlNode | undefined) ?? (v.query as string), options));
      return differs("error", text, v.expect_error);
    }
    case "to_kql": {
      const node = (v.node as KqlNode | undefined) ?? parseKql(v.query as string);
      if ("expect_error" in v)
        return differs(
          "error",
          thrownText(() => toKqlExpression(node)),
          v.expect_error,
        );
      const problem = differs("kql", toKqlExpression(node), v.expect_kql);
      if (problem || v.node === undefined || typeof v.query !== "string" || v.node_build !== undefined)
        return problem;
      // A round-trip vector: the query must also parse to the stated node.
      return differs("parsed node", parseKql(v.query), v.node);
    }
    case "get_fields": {
      const names = getFields(v.field_node as ValueNode, dataViewFor(v.index_pattern, stub)).map(
        (f) => f.name,
      );
      return differs("fields", names, v.expect_field_names);
    }
    case "full_field_name": {
      const view = dataViewFor(v.index_pattern, stub);
      const nestedPath = (v.nested_path as string | null) ?? undefined;
      const call = () => getFullFieldNameNode(v.field_node as ValueNode, view, nestedPath);
      if ("expect_error" in v) return differs("error", thrownText(call), v.expect_error);
      return differs("node", call(), v.expect_node);
    }
    case "escape_kuery":
      return differs("escaped", escapeKuery(v.input as string), v.expect_output);
    case "escape_quotes":
      return differs("escaped", escapeQuotes(v.input as string), v.expect_output);
    case "wildcard_test":
      return differs(
        "match",
        wildcardTest(wildcardNode(v.pattern as string), v.input as string),
        v.expect_match,
      );
    case "wildcard_toElasticsearchQuery":
      return differs(
        "value",
        wildcardToElasticsearchQuery(wildcardNode(v.pattern as string)),
        v.expect_output,
      );
    case "wildcard_toQueryStringQuery":
      return differs("value", wildcardToQueryStringQuery(wildcardNode(v.pattern as string)), v.expect_output);
    case "wildcard_has_leading":
      return differs("leading", wildcardHasLeading(wildcardNode(v.pattern as string)), v.expect);
    case "is_free_text":
      return differs("free text", isKqlFreeText(parseKql(v.query as string)), v.expect);
    case "build_query": {
      const body = buildQueryFromKuery(dataViewFor(v.index_pattern, stub), v.queries as string[]);
      return differs("bool", body, v.expect_bool);
    }
    default:
      return `unknown vector kind ${v.kind}`;
  }
}

function wildcardNode(pattern: string) {
  const node = wildcardFromPattern(pattern);
  if (node.type !== "wildcard") throw new Error(`pattern ${pattern} has no wildcard`);
  return node;
}

function checkToDsl(v: Vector, stub: KibanaDataView): string | undefined {
  const options = dslOptions(v, stub);
  const problems: string[] = [];
  const add = (problem: string | undefined) => {
    if (problem) problems.push(problem);
  };
  if (v.node !== undefined) {
    const dsl = toDsl(v.node as KqlNode | null, options);
    if ("expect_dsl" in v) add(differs("dsl of node", dsl, v.expect_dsl));
    else add(checkStated(v.expect_dsl_check as string, dsl, options));
  }
  if (typeof v.query === "string") {
    const parsed = parseKql(v.query);
    if (v.query_equivalent === true) add(differs("parsed query vs node", parsed, v.node));
    const expected = v.node === undefined ? v.expect_dsl : v.parsed_query_expect_dsl;
    if (expected !== undefined) add(differs("dsl of parsed query", toDsl(parsed, options), expected));
    else if (v.query_equivalent === true && "expect_dsl" in v) {
      add(differs("dsl of parsed query", toDsl(parsed, options), v.expect_dsl));
    }
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}

/** The three partial assertions the vectors state in words (scripted-field clauses carry Kibana's script). */
function checkStated(
  statement: string,
  dsl: Record<string, JsonValue>,
  options: ToDslOptions,
): string | undefined {
  const should = ((dsl.bool as Record<string, JsonValue> | undefined)?.should ?? []) as Record<
    string,
    JsonValue
  >[];
  if (statement.includes("one clause per index-pattern field")) {
    const count = options.dataView?.fields.length ?? 0;
    const scripted = options.dataView?.fields.filter((f) => f.scripted).length ?? 0;
    if (should.length !== count) return `expected ${count} should clauses, got ${should.length}`;
    const scripts = should.filter((clause) => "script" in clause).length;
    return scripts === scripted ? undefined : `expected ${scripted} script clauses, got ${scripts}`;
  }
  if (statement.includes('has property "script"')) {
    return should[0] && "script" in should[0] ? undefined : `should[0] has no script: ${JSON.stringify(dsl)}`;
  }
  return `unrecognised stated check: ${statement}`;
}
