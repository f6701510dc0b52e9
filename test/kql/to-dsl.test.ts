import assert from "node:assert/strict";
import { test } from "node:test";
import { isQuarryError } from "../../src/diagnostics/index.js";
import { buildQueryFromKuery, dataViewFromSchema, toDsl } from "../../src/kql/index.js";
import { parseMapping } from "../../src/schema/index.js";

const view = dataViewFromSchema(
  parseMapping(
    JSON.stringify({
      properties: {
        name: { type: "keyword" },
        msg: { type: "text", fields: { raw: { type: "keyword" } } },
        ts: { type: "date" },
        cmd: { type: "wildcard" },
        items: { type: "nested", properties: { id: { type: "keyword" } } },
      },
    }),
  ),
);
const should = (clause: object) => ({ bool: { should: [clause], minimum_should_match: 1 } });

test("per field type, as Kibana translates", () => {
  assert.deepEqual(toDsl("name:x", { dataView: view }), should({ term: { name: { value: "x" } } }));
  assert.deepEqual(
    toDsl("name:x*", { dataView: view, caseInsensitive: true }),
    should({ wildcard: { name: { value: "x*", case_insensitive: true } } }),
  );
  assert.deepEqual(toDsl('msg:"a b"', { dataView: view }), should({ match_phrase: { msg: "a b" } }));
  assert.deepEqual(toDsl("msg.raw:a", { dataView: view }), should({ term: { "msg.raw": { value: "a" } } }));
  assert.deepEqual(
    toDsl("cmd:*-enc*", { dataView: view }),
    should({ query_string: { fields: ["cmd"], query: "*\\-enc*" } }),
  );
  assert.deepEqual(
    toDsl("ts:2020-01-01", { dataView: view, dateFormatTZ: "UTC" }),
    should({ range: { ts: { gte: "2020-01-01", lte: "2020-01-01", time_zone: "UTC" } } }),
  );
  assert.deepEqual(
    toDsl("ts > 1577836800000", { dataView: view, dateFormatTZ: "UTC" }),
    should({ range: { ts: { gt: "1577836800000" } } }),
  );
  assert.deepEqual(toDsl("x:*"), should({ exists: { field: "x" } }));
  assert.deepEqual(toDsl("free"), { multi_match: { type: "best_fields", query: "free", lenient: true } });
  assert.deepEqual(toDsl("*:*"), { match_all: {} });
});

test("nested groups and their errors", () => {
  assert.deepEqual(toDsl("items:{ id:1 }", { dataView: view, nestedIgnoreUnmapped: true }), {
    nested: {
      path: "items",
      query: should({ term: { "items.id": { value: "1" } } }),
      score_mode: "none",
      ignore_unmapped: true,
    },
  });
  assert.deepEqual(
    toDsl("item*:1", { dataView: view }),
    should({
      nested: { path: "items", query: { term: { "items.id": { value: "1" } } }, score_mode: "none" },
    }),
  );
  try {
    toDsl("items.id:1", { dataView: view });
    assert.fail("no error");
  } catch (error) {
    assert.ok(isQuarryError(error));
    assert.equal(error.diagnostic.code, "KQL010");
    assert.equal(
      error.diagnostic.title,
      "items.id is a nested field, but is not in a nested group in the KQL expression.",
    );
  }
});

test("and / or / not shapes and buildQueryFromKuery", () => {
  assert.deepEqual(toDsl("not a:1 and b:2", { filtersInMustClause: true }), {
    bool: { must: [{ bool: { must_not: should({ match: { a: "1" } }) } }, should({ match: { b: "2" } })] },
  });
  assert.deepEqual(buildQueryFromKuery(undefined, ["a:1", "b:2"]).filter.length, 2);
  assert.throws(
    () => buildQueryFromKuery(undefined, ["a:*b"]),
    (e: unknown) => isQuarryError(e) && e.diagnostic.code === "KQL002",
  );
});
