/** Normalized keyword fields (`.caseless`, lowercase normalizer) compare folded values: so must the prefilter. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileEql } from "../../src/eql/index.js";
import { parseKql } from "../../src/kql/index.js";
import { prefilterForEql, prefilterForKql } from "../../src/prefilter/index.js";
import { ecsSchema } from "../../src/schema/index.js";

const schema = ecsSchema();
const line = Buffer.from('{"event":{"category":"process"},"process":{"name":"cmd.exe"}}');

function keeps(pf: ReturnType<typeof prefilterForEql>): boolean {
  return pf === undefined || (pf.next(line, 0, line.length) >= 0 && pf.line(line, 0, line.length));
}

test("EQL on .caseless fields keeps lines whose value differs only in case", () => {
  for (const q of [
    'process where process.name.caseless == "CMD.EXE"',
    'process where process.name.caseless in ("CMD.EXE", "FOO.EXE")',
    'process where process.name.caseless like "CMD*"',
    'process where startsWith(process.name.caseless, "CMD")',
    'process where process.name.caseless : "CMD.EXE"',
  ]) {
    const compiled = compileEql(q, { schema });
    assert.ok(
      compiled.matches?.({
        source: JSON.parse(line.toString()),
        raw: "",
        index: "",
        id: "",
        provenance: { file: "" },
        seq: 0,
      }),
      q,
    );
    assert.ok(keeps(prefilterForEql(compiled.query, { schema })), q);
  }
});

test("KQL on .caseless fields keeps lines whose value differs only in case", () => {
  for (const q of [
    "process.name.caseless : CMD.EXE",
    "process.name.caseless : CMD*",
    "process.name.caseless : (CMD.EXE or FOO)",
  ]) {
    assert.ok(keeps(prefilterForKql(parseKql(q), { schema })), q);
  }
});
