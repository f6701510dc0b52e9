/**
 * Golden files: `golden/parse/NAME.eql` -> `NAME.ast.txt` (the tree, indented) and
 * `golden/errors/NAME.eql` -> `NAME.out` (the rendered diagnostic, parse + verify against ECS types).
 *
 * Regenerate after a deliberate change, then review the diff:
 *   npx tsc -p tsconfig.json && QUARRY_UPDATE_GOLDEN=1 node --test dist/test/eql/golden.test.js
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { isQuarryError, renderDiagnostic } from "../../src/diagnostics/index.js";
import type { EqlNode } from "../../src/eql/ast.js";
import { parseEql } from "../../src/eql/parser.js";
import { verifyEql } from "../../src/eql/verifier.js";
import { ecsSchema } from "../../src/schema/index.js";

// Compiled to dist/test/eql/; the golden files stay in the source tree.
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../../test/eql/golden");
const update = process.env.QUARRY_UPDATE_GOLDEN === "1";

function check(file: string, actual: string): void {
  if (update || !existsSync(file)) {
    writeFileSync(file, actual);
    if (!update) assert.fail(`wrote missing golden file ${file}; review it and run again`);
    return;
  }
  assert.equal(actual, readFileSync(file, "utf8"), `golden mismatch: ${file}`);
}

/** One line per node: kind and its scalar fields, children indented below. */
export function formatAst(node: EqlNode, indent = ""): string {
  const scalars: string[] = [];
  const children: [string, EqlNode | readonly EqlNode[]][] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === "kind" || key === "span" || key.endsWith("Span")) continue;
    if (value === null || typeof value !== "object") {
      scalars.push(
        `${key}=${typeof value === "string" ? JSON.stringify(value) : String(value)}${typeof value === "bigint" ? "n" : ""}`,
      );
    } else if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      scalars.push(`${key}=${JSON.stringify(value)}`);
    } else {
      children.push([key, value as EqlNode | readonly EqlNode[]]);
    }
  }
  const lines = [
    `${indent}${node.kind}${scalars.length ? ` ${scalars.join(" ")}` : ""} @${node.span.start}..${node.span.end}`,
  ];
  for (const [key, value] of children) {
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      lines.push(`${indent}  ${key}:`);
      for (const child of value as readonly EqlNode[]) lines.push(formatAst(child, `${indent}    `));
    } else {
      lines.push(`${indent}  ${key}:`);
      lines.push(formatAst(value as EqlNode, `${indent}    `));
    }
  }
  return lines.join("\n");
}

const cases = (kind: string) =>
  readdirSync(join(root, kind))
    .filter((f) => f.endsWith(".eql"))
    .sort();

test("golden parse trees", () => {
  const files = cases("parse");
  assert.ok(files.length > 0);
  for (const file of files) {
    const text = readFileSync(join(root, "parse", file), "utf8");
    const query = parseEql(text);
    verifyEql(query, { source: text, schema: ecsSchema() });
    check(join(root, "parse", file.replace(/\.eql$/, ".ast.txt")), `${formatAst(query)}\n`);
  }
});

test("golden rendered diagnostics", () => {
  const files = cases("errors");
  assert.ok(files.length > 0);
  for (const file of files) {
    const text = readFileSync(join(root, "errors", file), "utf8");
    let rendered: string | undefined;
    try {
      verifyEql(parseEql(text), { source: text, schema: ecsSchema() });
    } catch (error) {
      if (!isQuarryError(error)) throw error;
      rendered = renderDiagnostic(error.diagnostic, error.sourceText ?? text, { origin: `errors/${file}` });
    }
    assert.ok(rendered !== undefined, `${file} should fail`);
    check(join(root, "errors", file.replace(/\.eql$/, ".out")), `${rendered}\n`);
  }
});
