import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compileExceptionLists,
  describeRefusal,
  type ExceptionList,
  parseKibanaExceptions,
  parseTomlExceptions,
  planExceptions,
} from "../../src/rules/exceptions.js";

const kibanaExport = [
  {
    list_id: "shared-1",
    name: "Shared exceptions",
    type: "detection",
    namespace_type: "single",
    description: "d",
  },
  {
    item_id: "i1",
    list_id: "shared-1",
    name: "benign updater",
    type: "simple",
    entries: [
      { field: "process.name", operator: "included", type: "match", value: "updater.exe" },
      { field: "host.name", operator: "excluded", type: "match_any", value: ["dc-1", "dc-2"] },
    ],
  },
  {
    item_id: "i2",
    list_id: "shared-1",
    name: "temp scripts",
    type: "simple",
    entries: [{ field: "file.path", operator: "included", type: "wildcard", value: "C:\\\\Temp\\\\*.ps1" }],
  },
  {
    item_id: "i3",
    list_id: "shared-1",
    name: "no user",
    type: "simple",
    entries: [
      { field: "user.name", operator: "excluded", type: "exists" },
      { field: "event.action", operator: "included", type: "exists" },
    ],
  },
  {
    item_id: "i4",
    list_id: "shared-1",
    name: "signed by us",
    type: "simple",
    entries: [
      {
        field: "process.code_signature",
        type: "nested",
        entries: [
          { field: "subject_name", operator: "included", type: "match", value: "Example Corp" },
          { field: "trusted", operator: "included", type: "match", value: "true" },
        ],
      },
    ],
  },
  {
    item_id: "bad",
    list_id: "shared-1",
    name: "value list",
    entries: [{ field: "x", type: "list", value: { id: "ips", type: "ip" } }],
  },
  { exported_exception_list_count: 1, exported_exception_list_item_count: 5 },
];

function load(): ExceptionList[] {
  const text = kibanaExport.map((o) => JSON.stringify(o)).join("\n");
  const r = parseKibanaExceptions(`${text}\nnot json\n`, "export.ndjson");
  assert.equal(r.errors.length, 2);
  assert.match(r.errors[0].message, /value list/);
  assert.equal(r.errors[0].line, 6);
  assert.equal(r.errors[1].line, 8);
  return r.lists;
}

test("a Kibana export loads lists and items; bad items are reported with their line", () => {
  const lists = load();
  assert.equal(lists.length, 1);
  assert.equal(lists[0].name, "Shared exceptions");
  assert.equal(lists[0].items.length, 4);
});

test("match, match_any (excluded), wildcard, exists and nested entries", () => {
  const ex = compileExceptionLists(load())!;
  // i1: match included + match_any excluded.
  assert.equal(ex({ process: { name: "updater.exe" }, host: { name: "ws-1" }, user: { name: "u" } }), true);
  assert.equal(ex({ process: { name: "updater.exe" }, host: { name: "dc-1" }, user: { name: "u" } }), false);
  assert.equal(
    ex({ process: { name: "updater.exe" }, user: { name: "u" } }),
    true,
    "excluded: a missing field satisfies it",
  );
  assert.equal(
    ex({ process: { name: "Updater.exe" }, host: { name: "ws-1" }, user: { name: "u" } }),
    false,
    "match is exact",
  );
  // i2: wildcard.
  assert.equal(ex({ file: { path: "C:\\Temp\\a.ps1" }, user: { name: "u" } }), true);
  assert.equal(ex({ file: { path: "C:\\Temp\\a.exe" }, user: { name: "u" } }), false);
  // i3: exists excluded + exists included.
  assert.equal(ex({ event: { action: "x" } }), true);
  assert.equal(ex({ event: { action: "x" }, user: { name: "u" } }), false);
  // i4: nested: both sub-entries must hold on one element.
  assert.equal(
    ex({
      user: { name: "u" },
      process: { code_signature: [{ subject_name: "Example Corp", trusted: true }] },
    }),
    true,
  );
  assert.equal(
    ex({
      user: { name: "u" },
      process: {
        code_signature: [
          { subject_name: "Example Corp", trusted: false },
          { subject_name: "Other", trusted: true },
        ],
      },
    }),
    false,
  );
});

test("endpoint lists take wildcard values literally; detection lists use backslash escapes", () => {
  const list = (type: string, value: string): ExceptionList => ({
    listId: type,
    name: type,
    type,
    file: "x",
    items: [
      {
        itemId: "1",
        name: "p",
        entries: [{ type: "wildcard", field: "file.path", operator: "included", value }],
      },
    ],
  });
  const doc = { file: { path: "C:\\Windows\\a.exe" } };
  assert.equal(compileExceptionLists([list("endpoint", "C:\\Windows\\*.exe")])!(doc), true);
  assert.equal(compileExceptionLists([list("detection", "C:\\Windows\\*.exe")])!(doc), false);
  assert.equal(compileExceptionLists([list("detection", "C:\\\\Windows\\\\*.exe")])!(doc), true);
});

test("detection-rules exception TOML names its rules", () => {
  const r = parseTomlExceptions(
    `[metadata]
creation_date = "2024/01/01"
list_name = "Endpoint tuning"
rule_ids = ["r-1"]
rule_names = ["Rule one"]

[[exceptions]]
description = "known tool"
name = "tool"
namespace_type = "single"
type = "simple"

[[exceptions.entries]]
field = "process.name"
operator = "included"
type = "match_any"
value = ["tool.exe", "tool64.exe"]

[exceptions.container]
list_id = "tuning-1"
name = "Endpoint tuning"
type = "detection"
namespace_type = "single"
`,
    "tuning.toml",
  );
  assert.deepEqual(r.errors, []);
  assert.equal(r.lists.length, 1);
  assert.equal(r.lists[0].listId, "tuning-1");
  assert.deepEqual(r.lists[0].ruleIds, ["r-1"]);
  const ex = compileExceptionLists(r.lists)!;
  assert.equal(ex({ process: { name: "tool64.exe" } }), true);
  assert.equal(ex({ process: { name: "other.exe" } }), false);
  const bad = parseTomlExceptions("[metadata\n", "bad.toml");
  assert.equal(bad.errors[0].line, 1);
});

test("lists attach per rule (exceptions_list, rule_ids) or to all; protected rules refuse them", () => {
  const list = (listId: string, ruleIds?: string[]): ExceptionList => ({
    listId,
    name: `List ${listId}`,
    type: "detection",
    file: `${listId}.ndjson`,
    items: [],
    ...(ruleIds ? { ruleIds } : {}),
  });
  const rules = [
    { ruleId: "r-1", name: "One", exceptionsList: [{ listId: "L1" }] },
    { ruleId: "r-2", name: "Two", exceptionsList: [] },
    { ruleId: "r-3", name: "Shellcode injection", exceptionsList: [{ listId: "L1" }] },
  ];
  const lists = [list("L1"), list("L2", ["r-2"]), list("G")];
  const protectedRules = new Map([["r-3", "Elastic's guidance: never add exceptions to these alerts"]]);
  const plan = planExceptions(rules, lists, protectedRules, false);
  assert.deepEqual(
    plan.byRule.get("r-1")?.map((l) => l.listId),
    ["L1", "G"],
  );
  assert.deepEqual(
    plan.byRule.get("r-2")?.map((l) => l.listId),
    ["L2", "G"],
  );
  assert.equal(plan.byRule.get("r-3"), undefined);
  assert.deepEqual(
    plan.global.map((l) => l.listId),
    ["G"],
  );
  assert.equal(plan.refusals.length, 2);
  assert.match(
    describeRefusal(plan.refusals[0]),
    /not applied to rule "Shellcode injection".*never add exceptions/,
  );
  const forced = planExceptions(rules, lists, protectedRules, true);
  assert.deepEqual(
    forced.byRule.get("r-3")?.map((l) => l.listId),
    ["L1", "G"],
  );
  assert.ok(forced.refusals.every((r) => r.forced));
  assert.match(describeRefusal(forced.refusals[0]), /--force-exceptions/);
});
