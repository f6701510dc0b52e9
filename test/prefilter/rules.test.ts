/** One test per prefilter rule: what is required, what is not, and the escapes and case traps. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { compileEql } from "../../src/eql/index.js";
import { compileKqlAst, parseKql } from "../../src/kql/index.js";
import type { LinePrefilter } from "../../src/prefilter/index.js";
import {
  prefilterForEql,
  prefilterForKql,
  prefilterForLiterals,
  unionPrefilters,
} from "../../src/prefilter/index.js";
import { setSimd } from "../../src/prefilter/teddy.js";
import { parseMapping, type Schema } from "../../src/schema/index.js";
import { differential, keptLines } from "./harness.js";

function eql(text: string, options: Parameters<typeof prefilterForEql>[1] = {}): LinePrefilter | undefined {
  return prefilterForEql(compileEql(text, options).query, options);
}
function kql(text: string, options: { caseInsensitive?: boolean } = {}): LinePrefilter | undefined {
  return prefilterForKql(parseKql(text), options);
}
function accepts(pf: LinePrefilter | undefined, line: string): boolean {
  if (!pf) return true;
  return keptLines(pf, [line])[0];
}
/** The query's hits are the same with the prefilter, and it has at least one. */
function sameHitsEql(text: string, lines: string[], options = {}): void {
  const q = compileEql(text, options);
  const r = differential(q, prefilterForEql(q.query, options), lines);
  assert.ok(r.all.length > 0, `${text}: the test needs a hit`);
  assert.deepEqual(r.filtered, r.all, text);
}
function sameHitsKql(text: string, lines: string[], options: { caseInsensitive?: boolean } = {}): void {
  const ast = parseKql(text);
  const q = compileKqlAst(ast, options, text);
  const r = differential(q, prefilterForKql(ast, options), lines);
  assert.ok(r.all.length > 0, `${text}: the test needs a hit`);
  assert.deepEqual(r.filtered, r.all, text);
}

const DNS = (name: string, category = '"network"') =>
  `{"event":{"category":[${category}]},"dns":{"question":{"name":${name}}}}`;

test("a selective `:` needs the value in some letter case and the category", () => {
  const pf = eql('network where dns.question.name : "raw.githubusercontent.com"');
  assert.ok(pf);
  assert.match(pf.description, /contains~ "\\"raw\.githubusercontent\.com\\""/);
  assert.equal(accepts(pf, DNS('"RAW.GitHubUserContent.COM"')), true);
  assert.equal(accepts(pf, DNS('"example.com"')), false);
  assert.equal(accepts(pf, DNS('"raw.githubusercontent.com"', '"process"')), false);
  assert.equal(accepts(pf, DNS('"raw.githubusercontent.com.evil"')), false, "`:` without * is whole-value");
});

test("JSON escapes that can hide a literal keep the line", () => {
  const pf = eql('network where dns.question.name : "raw.githubusercontent.com"');
  assert.equal(accepts(pf, DNS('"raw.githubuserc\\u006Fntent.com"')), true);
  sameHitsEql('network where dns.question.name : "raw.githubusercontent.com"', [
    DNS('"raw.githubuserc\\u006fntent.com"'),
    DNS('"\\u0072aw.githubusercontent.com"', '"netw\\u006frk"'),
  ]);
  // `\/` matters only to a literal holding `/`.
  const slash = eql('any where url.path == "/a/b"');
  assert.equal(accepts(slash, '{"url":{"path":"\\/a\\/b"}}'), true);
  assert.equal(accepts(eql('any where url.path == "ab"'), '{"url":{"path":"\\/a\\/b"}}'), false);
  // `\\u` is an escaped backslash then `u`, not a `\u` escape.
  assert.equal(accepts(pf, DNS('"C:\\\\users"')), false);
  assert.equal(accepts(pf, DNS('"C:\\\\\\u0041"')), true);
  // ASCII literals can only hide behind escapes of ASCII characters (and of the two characters that
  // lower-case to `k` or `i`): other escapes no longer keep the line; a non-ASCII literal keeps every one.
  assert.equal(accepts(pf, DNS('"\\u4e2d.example"')), false);
  assert.equal(accepts(pf, DNS('"\\u00e9.example"')), true);
  assert.equal(accepts(eql('any where x.v == "caf\u00e9"'), '{"x":{"v":"\\u4e2d"}}'), true);
  sameHitsEql('any where x.v : "kelvin"', ['{"x":{"v":"\\u212Aelvin"}}', '{"x":{"v":"\\u212aelvin"}}']);
  sameHitsKql("x.v: *stanbul*", ['{"x":{"v":"\\u0130stanbul"}}']);
  assert.equal(accepts(eql('any where x.v : "kelvin"'), '{"x":{"v":"\\u212Aelvin"}}'), true);
  assert.equal(accepts(eql('any where x.v == "kelvin"'), '{"x":{"v":"\\u212Aelvin"}}'), false);
});

test("literals holding quotes, backslashes and control characters", () => {
  sameHitsEql('any where file.path == "C:\\\\Windows\\\\a.dll"', [
    '{"file":{"path":"C:\\\\Windows\\\\a.dll"}}',
  ]);
  sameHitsEql('any where x.v == "say \\"hi\\""', ['{"x":{"v":"say \\"hi\\""}}']);
  sameHitsEql('any where x.v == "a\\tb"', ['{"x":{"v":"a\\tb"}}', '{"x":{"v":"a\\u0009b"}}']);
  const pf = eql('any where x.v == "a\\tbcdef"');
  assert.ok(pf);
  assert.equal(accepts(pf, '{"x":{"v":"zzz"}}'), false);
});

test("non-ASCII: exact literals use UTF-8 bytes; case-insensitive ones only their ASCII runs", () => {
  sameHitsEql('any where x.v == "café au lait"', [
    '{"x":{"v":"café au lait"}}',
    '{"x":{"v":"caf\\u00e9 au lait"}}',
  ]);
  sameHitsEql('any where x.v : "café au lait"', ['{"x":{"v":"CAFÉ AU LAIT"}}']);
  // Invalid UTF-8 decodes to U+FFFD, which the raw line does not hold.
  const bad = Buffer.concat([Buffer.from('{"x":{"v":"a'), Buffer.from([0xff]), Buffer.from('b"}}')]);
  const replaced = eql('any where x.v == "a\uFFFDb"');
  assert.ok(replaced);
  assert.ok(replaced.next(bad, 0, bad.length) >= 0);
  assert.equal(replaced.line(bad, 0, bad.length), true);
  // KELVIN SIGN lower-cases to `k`; U+0130 to `i` and a combining dot.
  sameHitsEql('any where x.v : "kelvin"', ['{"x":{"v":"\u212Aelvin"}}']);
  sameHitsKql("x.v: kelvin", ['{"x":{"v":"\u212Aelvin"}}']);
  sameHitsKql("x.v: *stanbul*", ['{"x":{"v":"\u0130stanbul"}}']);
  sameHitsKql("x.v: *xi*", ['{"x":{"v":"X\u0130Z"}}']);
  sameHitsEql('any where stringContains~(x.v, "xi")', ['{"x":{"v":"X\u0130Z"}}']);
  const pf = eql('any where x.v : "kelvin"');
  assert.equal(accepts(pf, '{"x":{"v":"\u212Aelvin"}}'), true);
  assert.equal(accepts(pf, '{"x":{"v":"elvin"}}'), false);
});

test("numbers and booleans whose JSON text differs from the compared text", () => {
  // A keyword comparison sees String(100) for the JSON number 1e2, and "true" for true.
  sameHitsEql('any where x.note : "100"', ['{"x":{"note":1e2}}']);
  sameHitsEql('any where x.note == "100"', ['{"x":{"note":100.0}}']);
  sameHitsEql('any where x.note : "1*"', ['{"x":{"note":1e2}}']);
  sameHitsEql('any where x.note : "Infinity"', ['{"x":{"note":1e400}}']);
  sameHitsEql('any where x.note : "tr*"', ['{"x":{"note":true}}']);
  sameHitsEql('any where x.note : "TRUE"', ['{"x":{"note":true}}']);
  sameHitsKql("x.note: 100", ['{"x":{"note":1e2}}']);
  sameHitsKql('x.note: "2024-01-01"', ['{"x":{"note":"2024-01-01T00:00:00Z"}}']);
});

test("what requires nothing: not, !=, not in, null checks, numbers, regex, field-to-field", () => {
  for (const q of [
    'any where not process.name == "a.exe"',
    'any where process.name != "a.exe"',
    'any where process.name not in ("a.exe", "b.exe")',
    "any where process.name == null",
    "any where ?process.name != null",
    "any where process.pid > 4",
    'any where process.name regex "cmd.*"',
    "any where add(process.pid, 1) == 5",
    "any where length(process.name) > 3",
    'any where process.name : "a.exe" or process.pid == 4',
    "any where true",
  ]) {
    assert.equal(eql(q), undefined, q);
  }
  for (const q of [
    "not process.name: a",
    "process.pid > 4",
    "process.name: *",
    '@timestamp < "2024-01-01"',
    "a or x.n: 5",
  ]) {
    assert.equal(kql(q), undefined, q);
  }
  // `any where` with a requirement, and a category alone.
  assert.ok(eql('any where process.name == "a.exe"'));
  assert.ok(eql("process where true"));
});

test("a null_value mapping makes equality require nothing (an explicit null is indexed as that value)", () => {
  // parseMapping does not keep null_value (yet); the evaluator honours it when a schema gives it.
  const info = { type: "keyword", nullValue: "N/A" };
  const schema: Schema = {
    lookup: (f) => (f === "x.v" ? info : undefined),
    resolveAlias: (f) => f,
    fieldNames: () => ["x.v"],
  };
  assert.equal(eql('any where x.v == "N/A"', { schema }), undefined);
  sameHitsEql('any where x.v == "N/A"', ['{"x":{"v":null}}'], { schema });
});

test("the event category uses the category field as mapped, through an alias", () => {
  const schema = parseMapping(
    JSON.stringify({
      properties: {
        event_type: { type: "keyword" },
        event: { properties: { category: { type: "alias", path: "event_type" } } },
      },
    }),
  );
  const pf = eql("process where true", { schema });
  assert.ok(pf);
  sameHitsEql("process where true", ['{"event_type":"process"}', '{"event_type":"file"}'], { schema });
  assert.equal(accepts(pf, '{"event_type":"file"}'), false);
  // Exact case: the evaluator compares categories exactly.
  assert.equal(accepts(eql("process where true"), '{"event":{"category":"Process"}}'), false);
});

test("sequences and samples: a line matters to any stage, to until and to a missing stage", () => {
  const seq =
    'sequence by host.id with maxspan=1h [process where process.name == "a.exe"] ![file where file.name == "gone.txt"] [network where dns.question.name : "c2.example"] until [process where process.name == "stop.exe"]';
  const pf = eql(seq);
  assert.ok(pf);
  for (const line of [
    '{"event":{"category":"process"},"process":{"name":"a.exe"}}',
    '{"event":{"category":"file"},"file":{"name":"gone.txt"}}',
    '{"event":{"category":"network"},"dns":{"question":{"name":"C2.example"}}}',
    '{"event":{"category":"process"},"process":{"name":"stop.exe"}}',
  ])
    assert.equal(accepts(pf, line), true, line);
  assert.equal(accepts(pf, '{"event":{"category":"process"},"process":{"name":"b.exe"}}'), false);
  const ts = (i: number) => `"@timestamp":"2024-01-01T00:00:0${i}Z","host":{"id":"h"}`;
  sameHitsEql(
    'sequence by host.id [process where process.name == "a.exe"] [network where true] until [file where file.name == "x"]',
    [
      `{${ts(1)},"event":{"category":"process"},"process":{"name":"a.exe"}}`,
      `{${ts(2)},"event":{"category":"file"},"file":{"name":"y"}}`,
      `{${ts(3)},"event":{"category":"network"}}`,
    ],
  );
  // One stage without a requirement: no prefilter.
  assert.equal(eql('sequence [process where process.name == "a"] [any where true]'), undefined);
  assert.ok(eql('sample by host.id [process where process.name == "a"] [file where file.name == "b"]'));
});

test("KQL: keyword is exact, text fields and free text are analysed, wildcards keep their literal runs", () => {
  const exact = kql("process.name: cmd.exe");
  assert.equal(accepts(exact, '{"process":{"name":"cmd.exe"}}'), true);
  assert.equal(accepts(exact, '{"process":{"name":"CMD.EXE"}}'), false);
  assert.equal(
    accepts(kql("process.name: cmd.exe", { caseInsensitive: true }), '{"process":{"name":"CMD.EXE"}}'),
    true,
  );
  // `message` is a text field: any token in any case.
  const text = kql("message: Hello-World");
  assert.equal(accepts(text, '{"message":"say HELLO there"}'), true);
  assert.equal(accepts(text, '{"message":"nothing"}'), false);
  sameHitsKql("message: Hello-World", ['{"message":"say HELLO there"}']);
  sameHitsKql('message: "hello world"', ['{"message":"Hello, World"}']);
  sameHitsKql("HELLO", ['{"x":{"note":"hello"}}']);
  const wild = kql("process.name: *cmd*.exe");
  assert.equal(accepts(wild, '{"process":{"name":"xcmdy.exe"}}'), true);
  assert.equal(accepts(wild, '{"process":{"name":"xcmdy.exe.bak"}}'), false);
  sameHitsKql("x.note: Hel*", ['{"x":{"note":"HELLO WORLD"}}']);
});

test("many literals: a 1,000-domain list is one search and keeps exactly the right lines", () => {
  const domains = Array.from({ length: 1000 }, (_, i) => `d${i}.bad${i % 7}.example`);
  const pf = eql(`network where dns.question.name : (${domains.map((d) => `"${d}"`).join(", ")})`);
  assert.ok(pf);
  assert.match(pf.description, /1000 literals|some of 1000/);
  assert.equal(accepts(pf, DNS('"D999.BAD5.example"')), true);
  assert.equal(accepts(pf, DNS('"d1000.bad6.example"')), false);
  assert.equal(accepts(pf, DNS('"xd999.bad5.example"')), false);
  const k = kql(`dns.question.name: (${domains.slice(0, 50).join(" or ")})`);
  assert.ok(k);
  assert.equal(accepts(k, DNS('"d49.bad0.example"')), true);
  assert.equal(accepts(k, DNS('"d50.bad1.example"')), false);
});

test("the rarest conjunct is searched; the others are verified on the line", () => {
  const pf = eql(
    'process where process.name : "3CXDesktopApp.exe" and dns.question.name : "raw.githubusercontent.com"',
  );
  assert.ok(pf);
  assert.match(pf.description, /search: contains~ "\\"raw\.githubusercontent\.com\\""/);
  assert.equal(
    accepts(pf, '{"event":{"category":"process"},"dns":{"question":{"name":"raw.githubusercontent.com"}}}'),
    false,
  );
});

test("union: undefined if any input is undefined; otherwise a line any query needs", () => {
  const a = eql('process where process.name == "a.exe"');
  const b = eql('file where file.name == "b.txt"');
  assert.equal(unionPrefilters([a, undefined]), undefined);
  const u = unionPrefilters([a, b]);
  assert.ok(u);
  assert.equal(accepts(u, '{"event":{"category":"file"},"file":{"name":"b.txt"}}'), true);
  assert.equal(accepts(u, '{"event":{"category":"process"},"process":{"name":"a.exe"}}'), true);
  assert.equal(accepts(u, '{"event":{"category":"process"},"process":{"name":"c.exe"}}'), false);
});

test("next() finds the earliest hit, with every byte offset of a block, and stays linear on hostile input", () => {
  const pf = eql('any where x.v : ("*cabdab*", "*bcabda*", "*abcabd*")');
  assert.ok(pf);
  const line = Buffer.from('{"x":{"v":"zzabcabdabzz"}}\n');
  assert.equal(pf.next(line, 0, line.length), line.indexOf("abcabd"));
  assert.equal(pf.next(line, line.indexOf("abcabd") + 1, line.length), line.indexOf("bcabda"));
  assert.equal(pf.next(line, 0, line.indexOf("abcabd") + 5), -1);
  // 8 MiB of near-misses and backslash runs: must finish quickly.
  const hostile = Buffer.alloc(8 << 20);
  for (let i = 0; i < hostile.length; i++) hostile[i] = i % 97 === 0 ? 0x5c : "abcab"[i % 5].charCodeAt(0);
  const t0 = Date.now();
  let from = 0;
  let found = 0;
  while (from < hostile.length) {
    const at = pf.next(hostile, from, hostile.length);
    if (at < 0) break;
    found++;
    from = at + 1;
  }
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  assert.ok(found >= 0);
});

test('a whole-value literal followed by `:` is a key: `"process"` on a network event is not the category', () => {
  const pf = eql('process where process.name : "cmd.exe"');
  const event = (category: string, key = '"process":') =>
    `{"event":{"category":[${category}]},${key}{"name":"CMD.EXE"}}`;
  assert.equal(accepts(pf, event('"network"')), false);
  assert.equal(accepts(pf, event('"network"', '"process" \t :')), false);
  assert.equal(accepts(pf, event('"process"')), true);
  assert.equal(accepts(pf, event('"network", "process" ]')), true);
  assert.equal(accepts(pf, `{"event":{"category":"process"},"process":{"name":"cmd.exe"}}`), true);
  sameHitsEql('process where process.name : "cmd.exe"', [
    event('"process"'),
    event('"network"'),
    event('"process"', '"process" :'),
    `{"process":"process","event":{"category":"process"},"process.name":"cmd.exe"}`,
  ]);
});

test("the SIMD search and the JavaScript searches keep the same lines and find the same first hits", () => {
  const lines = [
    DNS('"raw.githubusercontent.com"'),
    DNS('"RAW.GITHUBUSERCONTENT.COM"'),
    DNS('"raw.githubuserc\\u006fntent.com"'),
    DNS('"C:\\\\u0041"'),
    DNS('"\\u212Aelvin"'),
    DNS('"\u0130stanbul"'),
    DNS('"\u212Aelvin"'),
    DNS('"https:\\/\\/raw.githubusercontent.com\\/x"'),
    DNS('"example.com"'),
    `{"event":{"category":"process"},"process":{"code_signature":{"subject_name":"3CX Ltd"}}}`,
  ];
  const queries = [
    'network where dns.question.name : "raw.githubusercontent.com"',
    'any where dns.question.name : ("kelvin", "istanbul", "*/x")',
    'sequence [process where process.code_signature.subject_name : "3CX Ltd"] [network where dns.question.name : "raw.githubusercontent.com"]',
  ];
  for (const q of queries) {
    setSimd(false);
    const plain = eql(q);
    setSimd(true);
    const simd = eql(q);
    assert.ok(plain && simd);
    assert.deepEqual(keptLines(simd, lines), keptLines(plain, lines), q);
    const block = Buffer.from(`${lines.join("\n")}\n`);
    for (let from = 0; from < block.length; from += 7) {
      const a = simd.next(block, from, block.length);
      const b = plain.next(block, from, block.length);
      // The SIMD pass may stop at an escape the JavaScript one proves harmless (`\\u` after a
      // backslash); never later than it.
      assert.ok(b < 0 ? a === -1 || a >= from : a >= from && a <= b, `${q}: from ${from}: ${a} vs ${b}`);
    }
  }
});

test("many literals: long ones in the jump search, short ones and the hazards in the SIMD pass", () => {
  const hex = (i: number) => createHash("sha256").update(String(i)).digest("hex");
  const hashes = Array.from({ length: 80 }, (_, i) => hex(i));
  const domains = Array.from({ length: 30 }, (_, i) => `c2-${hex(1000 + i).slice(0, 8)}.example`);
  const texts = [...hashes, ...domains, "3CX Ltd"];
  const line = (field: string, value: string) => `{"event":{"category":"x"},"${field}":"${value}"}`;
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    const k = i % 9;
    if (k === 0) lines.push(line("dll.hash.sha256", hashes[i % hashes.length].toUpperCase()));
    else if (k === 1) lines.push(line("dns.question.name", `www.${domains[i % domains.length]}`));
    else if (k === 2)
      lines.push(line("dns.question.name", domains[i % domains.length].replace("c2", "c\\u0032")));
    else if (k === 3) lines.push(line("subject", "3cx LTD"));
    else if (k === 4) lines.push(line("path", "C:\\\\Users\\\\u0041"));
    else lines.push(line("dns.question.name", `benign-${hex(i).slice(0, 12)}.example.com`));
  }
  setSimd(false);
  const plain = prefilterForLiterals(texts, { caseInsensitive: true });
  setSimd(true);
  const simd = prefilterForLiterals(texts, { caseInsensitive: true });
  assert.ok(plain && simd);
  const kept = keptLines(simd, lines);
  assert.deepEqual(kept, keptLines(plain, lines));
  // Planted lines are kept (the escaped one too); the escaped backslash before `u0041` and the benign
  // names are not.
  assert.deepEqual(
    kept,
    lines.map((_, i) => i % 9 <= 3),
  );
  // A hit lands on the same line with SIMD on and off, or earlier where the SIMD pass stops at the
  // escaped backslash before `u0041` (which `line()` then rejects).
  const block = Buffer.from(`${lines.join("\n")}\n`);
  const lineOf = (at: number) => (at < 0 ? Number.POSITIVE_INFINITY : block.lastIndexOf(0x0a, at - 1) + 1);
  let earlier = 0;
  for (let from = 0; from < block.length; from += 13) {
    const a = lineOf(simd.next(block, from, block.length));
    const b = lineOf(plain.next(block, from, block.length));
    assert.ok(a <= b, `from ${from}`);
    if (a < b) {
      earlier++;
      assert.match(block.toString("latin1", a, block.indexOf(0x0a, a)), /Users\\\\u0041/);
    }
  }
  assert.ok(earlier > 0);
});

test("line() of the last hit's line: accepted at once only while the needle is still there", () => {
  const pf = prefilterForLiterals(["evil.example", "bad.example"], { caseInsensitive: true });
  assert.ok(pf);
  const text = '{"dns":{"question":{"name":"www.EVIL.example"}}}\n{"dns":{"question":{"name":"ok"}}}\n';
  const block = Buffer.from(text);
  const hit = pf.next(block, 0, block.length);
  assert.equal(hit, text.indexOf("EVIL"));
  const nl = block.indexOf(0x0a);
  assert.equal(pf.line(block, 0, nl), true);
  // The caller reused the buffer: the same offsets now hold another line.
  block.write('{"dns":{"question":{"name":"www.EVIL.elsewhere"}}}', 0, "latin1");
  assert.equal(pf.line(block, 0, block.indexOf(0x0a)), false);
  // A key is not a value: `"process"` ends a value needle; as the hit's needle followed by `:` it does
  // not accept the line at once (the full check decides).
  const category = eql("process where true");
  assert.ok(category);
  const keyLine = Buffer.from('{"process":{"name":"x"},"event":{"category":"network"}}\n');
  const at = category.next(keyLine, 0, keyLine.length);
  assert.ok(at >= 0);
  assert.equal(category.line(keyLine, 0, keyLine.length - 1), false);
});

test("the union of many rules keeps every line its block search stops at (testing the formula costs more than a parse)", () => {
  // 300 rules each needing two literals: the union's exact line test would search each candidate line 300+
  // times, so `line()` keeps whatever line the search stops at; lines holding none of the literals are
  // still skipped.
  const filters: (LinePrefilter | undefined)[] = [];
  for (let i = 0; i < 300; i++)
    filters.push(
      prefilterForEql(
        compileEql(`process where process.name == "tool${i}.exe" and process.args == "--flag${i}"`).query,
        {},
      ),
    );
  const union = unionPrefilters(filters)!;
  const doc = (name: string, arg: string) =>
    Buffer.from(`{"event":{"category":["process"]},"process":{"name":"${name}","args":["${arg}"]}}`);
  const onlyOne = doc("tool7.exe", "--other");
  const both = doc("tool7.exe", "--flag7");
  const none = doc("other.exe", "--other");
  assert.equal(union.line(both, 0, both.length), true);
  // Undecided: kept (a weaker test is always safe).
  assert.equal(union.line(onlyOne, 0, onlyOne.length), true);
  assert.equal(union.next(none, 0, none.length), -1);
  // A few rules keep the exact test.
  const few = unionPrefilters(filters.slice(0, 4))!;
  const four = doc("tool3.exe", "--other");
  assert.equal(few.line(four, 0, four.length), false);
});
