/**
 * Suite `eql/es/test_string_functions`: every fold case (`[[<fn>.fold.tests]]` and `[[<fn>.tests]]`) of
 * Elasticsearch's test_string_functions.toml, evaluated by the engine. A case without `expected`
 * expects null (the file comments those lines out). The verifier-failure cases of the same file run in
 * the front end's own suite.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { isQuarryError } from "../../../src/diagnostics/index.js";
import { ExpressionCompiler } from "../../../src/eql/compile.js";
import { parseEqlExpression } from "../../../src/eql/parser.js";
import { verifyEqlExpression } from "../../../src/eql/verifier.js";
import type { CaseResult, SuiteReport } from "../harness.js";

const FILE = "conformance/eql/elasticsearch/test_string_functions.toml";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function same(actual: unknown, expected: unknown): boolean {
  if (expected === undefined) return actual === null;
  if (
    (typeof actual === "number" || typeof actual === "bigint") &&
    (typeof expected === "number" || typeof expected === "bigint")
  )
    return Number(actual) === Number(expected);
  return actual === expected;
}

export async function run(shared: string): Promise<readonly SuiteReport[]> {
  const document = parse(readFileSync(join(shared, FILE), "utf8"));
  const cases: CaseResult[] = [];
  const seen = new Map<string, number>();
  for (const [table, section] of Object.entries(document)) {
    if (!isRecord(section)) continue;
    const lists = [isRecord(section.fold) ? section.fold.tests : undefined, section.tests];
    for (const list of lists) {
      if (!Array.isArray(list)) continue;
      for (const test of list) {
        if (!isRecord(test) || typeof test.expression !== "string") continue;
        const expression = test.expression;
        const base = `${table}: ${expression}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        const name = n === 1 ? base : `${base} #${n}`;
        try {
          const ast = parseEqlExpression(expression);
          verifyEqlExpression(ast, { source: expression });
          const compiler = new ExpressionCompiler({ completeSchema: false, fields: new Set() });
          const value = compiler.value(ast).fn({});
          cases.push(
            same(value, test.expected)
              ? { name, status: "passed" }
              : {
                  name,
                  status: "failed",
                  reason: `got ${String(value)}, expected ${test.expected === undefined ? "null" : String(test.expected)}`,
                },
          );
        } catch (error) {
          cases.push({
            name,
            status: "failed",
            reason: isQuarryError(error)
              ? `${error.diagnostic.code}: ${error.diagnostic.title}`
              : String(error),
          });
        }
      }
    }
  }
  return [{ suite: "eql/es/test_string_functions", cases }];
}
