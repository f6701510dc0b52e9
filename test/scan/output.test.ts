/** Output formatting of scan records. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { csvHeader, recordCsvRows, recordJson, recordTable, type ScanRecord } from "../../src/scan/index.js";

const record: ScanRecord = {
  file: {
    path: '/x/we"ird,name\n.dll',
    size: 10,
    hash: { md5: "m", sha1: "s1", sha256: "s256" },
  },
  yara: [
    {
      rule: "r1",
      namespace: "ns",
      tags: ["a", "b"],
      meta: { severity: "high", description: "desc", flag: true },
      strings: [{ id: "$a", offset: 3, length: 2, hex: "ff00" }],
    },
  ],
  indicators: [{ value: "s256", type: "sha256", label: "bad, very", source: null }],
};

test("json is the record shape, as is", () => {
  assert.deepEqual(JSON.parse(recordJson(record)), record);
});

test("csv: one row per finding, RFC 4180 quoting", () => {
  const rows = recordCsvRows(record);
  assert.equal(rows.length, 2);
  const path = '"/x/we""ird,name\n.dll"';
  assert.equal(rows[0], `${path},10,m,s1,s256,yara,r1,ns,a b,high,$a@3:2,,,,`);
  assert.equal(rows[1], `${path},10,m,s1,s256,indicator,,,,,,s256,sha256,"bad, very",`);
  assert.equal(
    csvHeader().split(",").length,
    rows[0].split(",").length - 1 /* the quoted comma in the path */,
  );
});

test("table escapes control characters in paths", () => {
  const text = recordTable(record);
  assert.ok(text.startsWith('/x/we"ird,name\\x0a.dll'));
  assert.match(text, /yara {2}ns:r1 \(a, b\) \[high\] {2}\$a@0x3/);
  assert.match(text, /ioc {3}sha256 s256 {2}bad, very/);
});
