import assert from "node:assert/strict";
import { test } from "node:test";
import { CASELESS_FIELDS, ecsSchema, parseMapping } from "../../src/schema/index.js";

test("ECS: `.caseless` multi-fields are lower-cased keywords read from their parent", () => {
  const ecs = ecsSchema();
  for (const parent of CASELESS_FIELDS) {
    assert.ok(ecs.lookup(parent), `${parent} is an ECS field`);
    assert.deepEqual(ecs.lookup(`${parent}.caseless`), { type: "keyword", normalizer: "lowercase" });
    assert.equal(ecs.lookup(parent)?.subFields?.caseless, "keyword");
    // Not a field of its own: engines read the parent's value.
    assert.ok(!ecs.fieldNames().includes(`${parent}.caseless`));
  }
  assert.equal(ecs.lookup("process.args.caseless"), undefined);
});

test("ECS: `.text` multi-fields are declared on their parents", () => {
  const ecs = ecsSchema();
  assert.equal(ecs.lookup("process.command_line")?.type, "wildcard");
  assert.equal(ecs.lookup("process.command_line")?.subFields?.text, "match_only_text");
  assert.equal(ecs.lookup("process.command_line.text")?.type, "match_only_text");
  assert.equal(ecs.lookup("process.name")?.subFields?.caseless, "keyword");
  assert.equal(ecs.lookup("process.name")?.subFields?.text, "match_only_text");
});

test("parseMapping keeps null_value, date format and normalizers", () => {
  const schema = parseMapping(
    JSON.stringify({
      mappings: {
        properties: {
          status: {
            type: "keyword",
            null_value: "NONE",
            fields: { lower: { type: "keyword", normalizer: "lowercase" } },
          },
          count: { type: "long", null_value: 0 },
          when: { type: "date", format: "yyyy-MM-dd||epoch_millis" },
          name: { type: "keyword", normalizer: "lowercase" },
          plain: { type: "keyword", null_value: null },
        },
      },
    }),
  );
  assert.equal(schema.lookup("status")?.nullValue, "NONE");
  assert.equal(schema.lookup("count")?.nullValue, 0);
  assert.equal(schema.lookup("when")?.format, "yyyy-MM-dd||epoch_millis");
  assert.equal(schema.lookup("name")?.normalizer, "lowercase");
  assert.equal(schema.lookup("status.lower")?.normalizer, "lowercase");
  assert.equal(schema.lookup("plain")?.nullValue, undefined);
  assert.equal(schema.lookup("when")?.nullValue, undefined);
});
