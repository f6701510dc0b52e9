/**
 * Suite `eql/es/test_string_functions#verifier`: the cases of Elasticsearch's test_string_functions.toml
 * that expect the query to be rejected (`[[<fn>.verifier.failures]]`). Each expression must fail
 * parsing or verification with an EQL1xx diagnostic, as Elasticsearch's verifier fails it. (The fold cases
 * of the same file are evaluated by the engine's own suite.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { isQuarryError } from "../../../src/diagnostics/index.js";
import { parseEqlExpression } from "../../../src/eql/parser.js";
import { verifyEqlExpression } from "../../../src/eql/verifier.js";
import type { CaseResult, SuiteReport } from "../harness.js";

const FILE = "conformance/eql/elasticsearch/test_string_functions.toml";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function run(shared: string): Promise<readonly SuiteReport[]> {
  const document = parse(readFileSync(join(shared, FILE), "utf8"));
  const cases: CaseResult[] = [];
  const seen = new Map<string, number>();
  for (const [table, section] of Object.entries(document)) {
    if (!isRecord(section) || !isRecord(section.verifier) || !Array.isArray(section.verifier.failures))
      continue;
    for (const failure of section.verifier.failures) {
      if (!isRecord(failure) || typeof failure.expression !== "string") continue;
      const expression = failure.expression;
      const base = `${table}: ${expression}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      const name = n === 1 ? base : `${base} #${n}`;
      try {
        verifyEqlExpression(parseEqlExpression(expression), { source: expression });
        cases.push({ name, status: "failed", reason: "accepted; Elasticsearch's verifier rejects it" });
      } catch (error) {
        if (isQuarryError(error) && /^EQL1\d\d$/.test(error.diagnostic.code)) {
          cases.push({ name, status: "passed" });
        } else {
          cases.push({ name, status: "failed", reason: `unexpected error: ${String(error)}` });
        }
      }
    }
  }
  return [{ suite: "eql/es/test_string_functions#verifier", cases }];
}
