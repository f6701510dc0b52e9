/**
 * The scan coordinator end to end (walk + worker pool + hashes + indicators): records in walk order
 * whatever the thread count, matched bytes sliced from the file, --max-size, IOC hash matches.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseIndicators } from "../../src/intel/index.js";
import {
  assignNamespaces,
  compileRuleFiles,
  hashBytes,
  indexHashIndicators,
  runScan,
  type ScanIssue,
  type ScanRecord,
} from "../../src/scan/index.js";
import { buildSuddenIconCarrier } from "../fixtures-gen/suddenicon.js";
import { tempDir } from "../helpers/tmp.js";
import { packRules } from "./helpers.js";

function rulesBlob(files: string[]) {
  const set = compileRuleFiles(assignNamespaces(files.map((path) => ({ path, origin: "test" }))), {});
  assert.deepEqual(set.errors, []);
  return set.blob;
}

async function scan(paths: string[], options: Partial<Parameters<typeof runScan>[0]> = {}) {
  const records: ScanRecord[] = [];
  const issues: ScanIssue[] = [];
  const summary = await runScan({
    paths,
    rules: null,
    indicators: null,
    hashes: true,
    maxSize: 256 << 20,
    onRecord: (r) => {
      records.push(r);
    },
    onIssue: (i) => issues.push(i),
    ...options,
  });
  return { records, issues, summary };
}

test("records come in walk order and are identical for 1 and 4 threads", async () => {
  const tmp = tempDir("quarry-sweep-order-");
  const rule = tmp.file("r.yar", 'rule marker { strings: $m = "MATCH-ME" condition: $m }\n');
  const data = join(tmp.dir, "data");
  mkdirSync(data);
  for (let i = 0; i < 150; i++) {
    const body = Buffer.alloc(1000 + ((i * 7919) % 50_000), i & 0xff);
    if (i % 3 === 0) body.write("MATCH-ME", (i * 31) % 900);
    tmp.file(`data/f${String(i).padStart(3, "0")}.bin`, body);
  }
  const blob = rulesBlob([rule]);
  const one = await scan([data], { rules: blob, threads: 1 });
  const four = await scan([data], { rules: blob, threads: 4 });
  assert.equal(one.records.length, 50);
  assert.deepEqual(four.records, one.records);
  assert.deepEqual(
    one.records.map((r) => r.file.path),
    [...one.records.map((r) => r.file.path)].sort(),
  );
  assert.equal(one.summary.files, 150);
  assert.equal(four.summary.filesWithFindings, 50);
  const first = one.records[0];
  assert.equal(first.yara[0].strings[0].hex, Buffer.from("MATCH-ME").toString("hex"));
  assert.equal(first.yara[0].strings[0].offset, 0);
});

test("matched bytes are sliced from the file: non-UTF-8 bytes survive", async () => {
  const tmp = tempDir("quarry-sweep-bytes-");
  const carrier = buildSuddenIconCarrier();
  const path = tmp.file("d3dcompiler_47.dll", Buffer.from(carrier.bytes));
  const { records } = await scan([path], { rules: rulesBlob([packRules]) });
  assert.equal(records.length, 1);
  const r = records[0];
  assert.equal(r.file.size, carrier.bytes.length);
  assert.deepEqual(r.file.hash, hashBytes(carrier.bytes));
  const doubled = r.yara.find((y) => y.rule === "Quarry_3CX_SuddenIcon_Carrier_DoubledMarker");
  assert.ok(doubled);
  assert.equal(doubled.namespace, "suddenicon");
  assert.deepEqual(doubled.tags, ["SUDDENICON", "carrier"]);
  assert.equal(doubled.meta.author, "Quarry");
  assert.equal(doubled.meta.severity, "critical");
  const marker = doubled.strings.find((s) => s.id === "$marker");
  assert.ok(marker);
  assert.equal(marker.hex, "feedfacefeedface");
  assert.equal(marker.length, 8);
  assert.equal(
    Buffer.from(carrier.bytes)
      .subarray(marker.offset, marker.offset + 8)
      .toString("hex"),
    "feedfacefeedface",
  );
});

test("hash indicators match by md5, sha1 or sha256, with label and source", async () => {
  const tmp = tempDir("quarry-sweep-iocs-");
  const a = Buffer.from("first file");
  const b = Buffer.from("second file");
  tmp.file("a.bin", a);
  tmp.file("b.bin", b);
  tmp.file("c.bin", "nobody knows me");
  const csv = `type,value,label,source\nsha256,${hashBytes(a).sha256},first sample,unit test\nmd5,${hashBytes(b).md5.toUpperCase()},second sample,unit test\n`;
  const list = parseIndicators(csv, { name: "test.csv", format: "csv" });
  const { records, summary } = await scan([tmp.dir], { indicators: indexHashIndicators([list]) });
  assert.equal(records.length, 2);
  assert.deepEqual(records[0].indicators, [
    { value: hashBytes(a).sha256, type: "sha256", label: "first sample", source: "unit test" },
  ]);
  assert.deepEqual(records[0].yara, []);
  assert.equal(records[1].indicators[0].type, "md5");
  assert.equal(records[1].indicators[0].value, hashBytes(b).md5);
  assert.equal(summary.indicatorMatches, 2);
});

test("files over --max-size are hashed (streaming) but not YARA-scanned unless --scan-large", async () => {
  const tmp = tempDir("quarry-sweep-large-");
  const rule = tmp.file("r.yar", 'rule big { strings: $m = "NEEDLE" condition: $m }\n');
  const body = Buffer.alloc(100_000, 1);
  body.write("NEEDLE", 90_000);
  tmp.file("big.bin", body);
  const list = parseIndicators(`type,value\nsha1,${hashBytes(body).sha1}\n`, {
    name: "l.csv",
    format: "csv",
  });
  const blob = rulesBlob([rule]);
  const skipped = await scan([join(tmp.dir, "big.bin")], {
    rules: blob,
    maxSize: 10_000,
    indicators: indexHashIndicators([list]),
  });
  assert.equal(skipped.summary.notYaraScanned, 1);
  assert.equal(skipped.records.length, 1);
  assert.deepEqual(skipped.records[0].yara, []);
  assert.deepEqual(skipped.records[0].file.hash, hashBytes(body));
  const scanned = await scan([join(tmp.dir, "big.bin")], { rules: blob, maxSize: 10_000, scanLarge: true });
  assert.equal(scanned.summary.notYaraScanned, 0);
  assert.equal(scanned.records[0].yara[0].strings[0].offset, 90_000);
  assert.equal(scanned.records[0].yara[0].strings[0].hex, Buffer.from("NEEDLE").toString("hex"));
});

test("--no-hashes: no hash in the record; YARA still runs", async () => {
  const tmp = tempDir("quarry-sweep-nohash-");
  const rule = tmp.file("r.yar", 'rule any_x { strings: $x = "xyz" condition: $x }\n');
  tmp.file("f.bin", "..xyz..");
  const { records } = await scan([join(tmp.dir, "f.bin")], { rules: rulesBlob([rule]), hashes: false });
  assert.equal(records[0].file.hash, null);
  assert.equal(records[0].yara[0].rule, "any_x");
});

test("unreadable inputs are reported and counted; the rest is scanned", async () => {
  const tmp = tempDir("quarry-sweep-missing-");
  tmp.file("ok.bin", "x");
  const { summary, issues } = await scan([join(tmp.dir, "missing.bin"), tmp.dir]);
  assert.equal(summary.files, 1);
  assert.equal(summary.unreadable, 1);
  assert.equal(summary.unreadableExplicit, 1);
  assert.equal(issues[0].kind, "unreadable");
});

test("match output is bounded: at most 100 reported strings per pattern, hex at most 512 bytes", async () => {
  const tmp = tempDir("quarry-sweep-bounds-");
  const rule = tmp.file(
    "r.yar",
    'rule many { strings: $a = "AB" $long = /C{600}/ condition: #a > 1000 and $long }\n',
  );
  const body = Buffer.concat([Buffer.from("AB".repeat(5000)), Buffer.alloc(600, "C")]);
  tmp.file("f.bin", body);
  const { records } = await scan([join(tmp.dir, "f.bin")], { rules: rulesBlob([rule]) });
  const strings = records[0].yara[0].strings;
  assert.equal(strings.filter((s) => s.id === "$a").length, 100);
  const long = strings.find((s) => s.id === "$long");
  assert.ok(long);
  assert.equal(long.length, 600);
  assert.equal(long.hex.length, 1024);
});
