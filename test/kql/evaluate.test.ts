import assert from "node:assert/strict";
import { test } from "node:test";
import { isQuarryError } from "../../src/diagnostics/index.js";
import type { EventRecord, JsonObject } from "../../src/events/types.js";
import { analyze, type CompileKqlOptions, compileKql } from "../../src/kql/index.js";
import { layeredSchema, parseMapping, type Schema } from "../../src/schema/index.js";

const MAPPING = {
  properties: {
    kw: { type: "keyword", ignore_above: 10 },
    txt: { type: "text", fields: { keyword: { type: "keyword" } } },
    mot: { type: "match_only_text" },
    wc: { type: "wildcard" },
    ck: { type: "constant_keyword" },
    n: { type: "long" },
    f: { type: "float" },
    d: { type: "double" },
    ts: { type: "date" },
    tn: { type: "date_nanos" },
    addr: { type: "ip" },
    flag: { type: "boolean" },
    items: { type: "nested", properties: { name: { type: "keyword" }, count: { type: "long" } } },
    obj: { properties: { a: { type: "keyword" }, b: { type: "keyword" } } },
  },
};

// A schema without ECS, so the tests do not depend on the ECS table.
const schema: Schema = layeredSchema(parseMapping(JSON.stringify(MAPPING)));

function event(source: JsonObject): EventRecord {
  return {
    source,
    raw: JSON.stringify(source),
    index: "test",
    id: "1",
    provenance: { file: "test" },
    seq: 0,
  };
}

function matches(query: string, doc: JsonObject, options: CompileKqlOptions = {}): boolean {
  const compiled = compileKql(query, { schema, now: Date.UTC(2024, 5, 15, 12, 0, 0), ...options });
  const result = compiled.matches?.(event(doc));
  // The run API agrees with the predicate.
  const hits = compiled.start().push(event(doc));
  assert.equal(result, (hits?.length ?? 0) === 1);
  return result === true;
}

const yes = (query: string, doc: JsonObject, options?: CompileKqlOptions) =>
  assert.equal(matches(query, doc, options), true, `${query} should match ${JSON.stringify(doc)}`);
const no = (query: string, doc: JsonObject, options?: CompileKqlOptions) =>
  assert.equal(matches(query, doc, options), false, `${query} should not match ${JSON.stringify(doc)}`);

function compileError(query: string): string {
  try {
    compileKql(query, { schema });
  } catch (error) {
    assert.ok(isQuarryError(error));
    return error.diagnostic.code;
  }
  assert.fail(`${query} compiled`);
}

test("keyword: exact, case-sensitive, ignore_above, wildcard without word splitting", () => {
  yes("kw:Abc", { kw: "Abc" });
  no("kw:abc", { kw: "Abc" });
  yes("kw:abc", { kw: "Abc" }, { caseInsensitive: true });
  no("kw:abcdefghijkl", { kw: "abcdefghijkl" }); // longer than ignore_above: not indexed
  no("kw:*", { kw: "abcdefghijkl" });
  yes("kw:A*c", { kw: "Abc" });
  yes("kw:a b*", { kw: "a bcd" }); // keyword wildcard query: the space is part of the pattern
  no("kw:a*", { kw: "Abc" });
  yes("kw:1", { kw: 1 });
  yes('kw:"a?c"', { kw: "a?c" });
  no("kw:a\\*c", { kw: "abc" });
  yes("kw:a\\*c", { kw: "a*c" });
});

test("text and match_only_text: analysed, any token, phrases in order", () => {
  yes("txt:hello", { txt: "Hello, World" });
  yes("txt:WORLD peace", { txt: "hello world" }); // match: any token
  no('txt:"world hello"', { txt: "hello world" });
  yes('txt:"hello world"', { txt: "Hello   World!" });
  yes("mot:it's", { mot: "well it's fine" });
  yes("txt:hel*", { txt: "Hello there" }); // wildcard terms are lower-cased
  yes("txt:*S3 nothing*", { txt: "the s3 browser" }); // query_string splits on whitespace: *s3 OR nothing*
  no("txt:foo-bar*", { txt: "foo-bar baz" }); // the pattern cannot span the tokenizer's split
  yes("txt.keyword:Hello", { txt: "Hello" });
  no("txt.keyword:hello", { txt: "Hello" });
  no("txt:'?'", { txt: "hello" }); // no tokens: nothing matches
  yes("txt >= m", { txt: "alpha zulu" });
});

test("the analyzer follows UAX #29 word rules", () => {
  assert.deepEqual(analyze("Hello, World! it's 192.168.1.1 and e.g. 1,000 foo_bar C:\\Windows x-y"), [
    "hello",
    "world",
    "it's",
    "192.168.1.1",
    "and",
    "e.g",
    "1,000",
    "foo_bar",
    "c",
    "windows",
    "x",
    "y",
  ]);
  assert.deepEqual(analyze("東京タワー"), ["東", "京", "タワー"]);
  assert.equal(analyze("a".repeat(300)).length, 2);
});

test("wildcard and constant_keyword: exact values, query_string per term", () => {
  yes("wc:Foo Bar", { wc: "Foo Bar" });
  no("wc:foo bar", { wc: "Foo Bar" });
  yes("wc:*Bar", { wc: "Foo Bar" });
  no("wc:*oo Ba*", { wc: "Foo Bar" }); // terms *oo OR Ba* against the whole value
  yes("ck:logs", { ck: "logs" });
});

test("numbers: coerced by type, ranges by value", () => {
  yes("n:5", { n: 5 });
  yes('n:"5"', { n: "5" });
  yes("n:5", { n: 5.7 }); // long coerces 5.7 to 5
  no("n:5.5", { n: 5 });
  yes("n > 4 and n < 6", { n: 5 });
  yes("f:0.1", { f: 0.1 });
  yes("d >= 1e3", { d: 1000 });
  assert.equal(compileError("n:abc"), "KQL020");
  assert.equal(compileError("n:1*"), "KQL020");
  assert.equal(compileError("n > abc"), "KQL020");
});

test("dates: rounding, date math, time zones, nanos", () => {
  yes("ts:2018-04-03", { ts: "2018-04-03T23:59:59.999Z" }); // is = gte..lte, lte rounds up
  no("ts:2018-04-03", { ts: "2018-04-04T00:00:00Z" });
  yes('ts:"2018-04-03T19:04"', { ts: "2018-04-03T19:04:59Z" });
  yes("ts > now-1d", { ts: "2024-06-15T00:00:00Z" });
  no("ts > now-1d", { ts: "2024-06-14T11:59:59Z" });
  yes("ts >= now/d and ts <= now/d", { ts: "2024-06-15T23:59:59.999Z" });
  no("ts > 2024-06-15", { ts: "2024-06-15T23:00:00Z" }); // gt rounds up to the day's end
  yes("ts >= 2024-06-15", { ts: "2024-06-15T00:00:00Z" });
  yes("ts > 1718409600000", { ts: 1718409600001 });
  // 2024-06-15 in Phoenix (UTC-7) ends at 2024-06-16T06:59:59.999Z.
  yes("ts:2024-06-15", { ts: "2024-06-16T06:00:00Z" }, { dateFormatTZ: "America/Phoenix" });
  no("ts:2024-06-15", { ts: "2024-06-16T06:00:00Z" });
  yes("ts >= 2024-01-01||+1M/M", { ts: "2024-02-01T00:00:00Z" });
  yes('tn > "2024-01-01T00:00:00.000000001"', { tn: "2024-01-01T00:00:00.000000002Z" });
  no('ts > "2024-01-01T00:00:00.000000001"', { ts: "2024-01-01T00:00:00.000000002Z" });
  assert.equal(compileError("ts:yesterday"), "KQL020");
});

test("ips: addresses, CIDR blocks, IPv6, ranges", () => {
  yes("addr:192.168.0.0/16", { addr: "192.168.16.3" });
  no("addr:10.0.0.0/8", { addr: "192.168.16.3" });
  yes('addr:"::ffff:10.1.2.3"', { addr: "10.1.2.3" });
  yes('addr:"2001:db8::/32"', { addr: "2001:db8::1" });
  yes("addr >= 10.0.0.0 and addr <= 10.255.255.255", { addr: "10.9.9.9" });
  assert.equal(compileError("addr:300.1.1.1"), "KQL020");
});

test("booleans", () => {
  yes("flag:true", { flag: true });
  yes("flag:false", { flag: "false" });
  no("flag:true", { flag: false });
  assert.equal(compileError("flag:maybe"), "KQL020");
});

test("multi-valued fields, not, exists", () => {
  yes("n:(1 and 2)", { n: [1, 2, 3] });
  no("not n:1", { n: [1, 2] });
  yes("not n:1", {});
  yes("kw:*", { kw: ["x"] });
  no("kw:*", { kw: null });
  no("kw:*", { kw: [] });
  no("kw:*", {});
  yes("n > 1 and n < 3", { n: [0, 5] }); // different values may satisfy each bound
  yes("obj.a:x and obj.b:y", { obj: [{ a: "x" }, { b: "y" }] }); // plain objects flatten
  yes("obj:*", { obj: { a: "x" } });
});

test("nested: clauses stay within one element", () => {
  const doc = {
    items: [
      { name: "a", count: 1 },
      { name: "b", count: 2 },
    ],
  };
  yes("items:{ name:a and count:1 }", doc);
  no("items:{ name:a and count:2 }", doc);
  yes("items:{ not name:a }", doc);
  assert.equal(compileError("items.name:a"), "KQL010"); // Kibana: nested field outside a nested group
  yes("*name:b", doc); // a wildcard name reaches nested fields (Kibana wraps it)
});

test("dynamic mapping for fields no schema knows", () => {
  yes("other:hello", { other: "Hello world" }); // text
  yes("other.keyword:Hello world", { other: "Hello world" });
  no("other.keyword:hello world", { other: "Hello world" });
  yes("count:7", { count: 7 });
  yes("when:2020-01-01", { when: "2020-01-01T10:00:00Z" }); // date-looking strings are dates
  yes("deep.path.x:1", { deep: { "path.x": 1 } });
  yes("x:{ a:1 and b:2 }", { x: [{ a: 1, b: 2 }] });
  no("x:{ a:1 and b:2 }", { x: [{ a: 1 }, { b: 2 }] });
});

test("free text: every field, with its type", () => {
  const doc = { msg: "Accepted password for root", n: 22, kw: "sshd", items: [{ name: "hidden" }] };
  yes("password", doc);
  yes('"password for"', doc);
  no('"for password"', doc);
  yes("22", doc);
  yes("sshd", doc);
  yes("pass*", doc);
  no("hidden", doc); // nested objects are not searched
  yes("*", doc);
});

test("wildcard field names expand over the event's fields", () => {
  yes("k*:Abc", { kw: "Abc" });
  yes("obj.*:y", { obj: { b: "y" } });
  no("obj.*:z", { obj: { b: "y" } });
  yes("*:22", { port: 22 });
});

test("null values are refused; `*:*` matches everything", () => {
  assert.equal(compileError("kw:null"), "KQL021");
  yes("*:*", {});
  yes("", {});
});

test("a 5,000-value hash list compiles to one lookup", () => {
  const hashes = Array.from({ length: 5000 }, (_, i) => i.toString(16).padStart(64, "0"));
  const query = `h:(${hashes.join(" or ")})`;
  const hashSchema = layeredSchema(parseMapping(JSON.stringify({ properties: { h: { type: "keyword" } } })));
  let started = performance.now();
  const compiled = compileKql(query, { schema: hashSchema });
  const compileMs = performance.now() - started;
  assert.ok(compileMs < 2000, `compile took ${compileMs} ms`);
  const hit = event({ h: hashes[4321] });
  const miss = event({ h: "f".repeat(64) });
  assert.equal(compiled.matches?.(hit), true);
  assert.equal(compiled.matches?.(miss), false);
  started = performance.now();
  for (let i = 0; i < 100_000; i++) compiled.matches?.(i % 2 ? hit : miss);
  const perEventUs = ((performance.now() - started) * 1000) / 100_000;
  // One set lookup per event: far below what 5,000 comparisons would cost.
  assert.ok(perEventUs < 5, `${perEventUs} us per event`);
  // The same list on an unmapped (dynamic, text) field also uses one token lookup.
  const dyn = compileKql(`other:(${hashes.join(" or ")})`, { schema: hashSchema });
  assert.equal(dyn.matches?.(event({ other: hashes[7].toUpperCase() })), true);
  assert.equal(dyn.matches?.(event({ other: "nope" })), false);
});

test("compiled query metadata", () => {
  const compiled = compileKql("a:1 and n:{ b:2 }", { schema });
  assert.equal(compiled.language, "kql");
  assert.equal(compiled.shape, "event");
  assert.equal(compiled.needsTimeOrder, false);
  assert.deepEqual(compiled.fields, ["a", "n", "n.b"]);
  assert.deepEqual(compiled.start().finish(), []);
});
