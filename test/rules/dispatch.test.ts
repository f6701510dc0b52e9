import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { compileEql } from "../../src/eql/index.js";
import type { EventRecord, JsonObject, JsonValue } from "../../src/events/types.js";
import { parseKql } from "../../src/kql/index.js";
import { chooseRouting, clausesOf, RuleIndex } from "../../src/rules/dispatch.js";
import { Hunt, type HuntOptions, type HuntResult } from "../../src/rules/engine.js";
import { type GuardExpr, staticEstimate } from "../../src/rules/guard.js";
import { huntOptionsFor, loadRuleSet, runHunt } from "../../src/rules/hunt.js";
import {
  compileTextCheck,
  eqlTextNeed,
  exactShape,
  FoldedValues,
  kqlTextNeed,
  patternShape,
} from "../../src/rules/literals.js";
import { parseRuleText } from "../../src/rules/load.js";
import type { DetectionRule } from "../../src/rules/types.js";
import { ecsSchema } from "../../src/schema/index.js";
import fc from "../fc.js";
import { event, type RuleSpec, ruleToml } from "./fixtures.js";

function rule(spec: RuleSpec): DetectionRule {
  const { rule, errors } = parseRuleText(ruleToml(spec), "rule.toml");
  assert.deepEqual(errors, []);
  return rule!;
}

function hunt(options: Partial<HuntOptions> & { rules: readonly DetectionRule[] }, events: EventRecord[]) {
  const h = new Hunt({ schema: ecsSchema(), ...options });
  const pass = h.pass();
  pass.push(events);
  return pass.finish();
}

const alertKeys = (r: HuntResult) =>
  r.alerts.map((a) => `${a.ruleId}:${a.sources.map((x) => x.id).join(",")}`).sort();

test("clauses: an `or` across stages still needs the union of each field every stage constrains", () => {
  const t = (field: string, ...values: string[]): GuardExpr => ({ kind: "term", term: { field, values } });
  const expr: GuardExpr = {
    kind: "any",
    items: [
      { kind: "all", items: [t("event.category", "process"), t("process.name", "cmd.exe")] },
      { kind: "all", items: [t("event.category", "network"), t("destination.port", "3389")] },
    ],
  };
  const clauses = clausesOf(expr, staticEstimate);
  assert.deepEqual(clauses[0], [{ field: "event.category", values: ["process", "network"] }]);
  // An item with no condition at all makes the `or` unconstrained.
  assert.deepEqual(
    clausesOf({ kind: "any", items: [t("a.b", "x"), { kind: "all", items: [] }] }, staticEstimate),
    [],
  );
});

test("rule index: multi-valued fields, missing fields and unguarded rules", () => {
  const t = (field: string, ...values: string[]): GuardExpr => ({ kind: "term", term: { field, values } });
  const routing = [
    chooseRouting(t("event.category", "process"), staticEstimate),
    chooseRouting(t("event.category", "network"), staticEstimate),
    chooseRouting(undefined, staticEstimate),
    chooseRouting(
      { kind: "any", items: [t("process.name", "cmd.exe"), t("user.name", "root")] },
      staticEstimate,
    ),
    chooseRouting({ kind: "term", term: { field: "destination.port", values: ["3389"] } }, staticEstimate),
  ];
  const index = new RuleIndex(routing.map((r, i) => ({ index: i, routing: r })));
  const of = (doc: JsonObject) => {
    const out = new Int32Array(routing.length);
    return [...out.subarray(0, index.candidates(doc, out))].sort();
  };
  assert.deepEqual(of({ event: { category: ["process", "network"] } }), [0, 1, 2]);
  assert.deepEqual(of({}), [2]);
  assert.deepEqual(of({ "event.category": "PROCESS", process: { name: "CMD.exe" } }), [0, 2, 3]);
  assert.deepEqual(of({ user: [{ name: "x" }, { name: "root" }] }), [2, 3]);
  assert.deepEqual(of({ destination: { port: "3389" } }), [2, 4]);
  assert.deepEqual(of({ destination: { port: 3389.0 } }), [2, 4]);
});

test("rule index: values remembered by a field stay right through case variants and a flood of distinct values", () => {
  const t = (field: string, ...values: string[]): GuardExpr => ({ kind: "term", term: { field, values } });
  const routing = [
    chooseRouting(t("process.name", "cmd.exe"), staticEstimate),
    chooseRouting(t("process.name", "rundll32.exe"), staticEstimate),
    chooseRouting(
      { kind: "any", items: [t("process.name", "cmd.exe"), t("user.name", "root")] },
      staticEstimate,
    ),
  ];
  const index = new RuleIndex(routing.map((r, i) => ({ index: i, routing: r })));
  const of = (name: JsonValue) => {
    const out = new Int32Array(routing.length);
    return [...out.subarray(0, index.candidates({ process: { name } }, out))].sort();
  };
  // More distinct values than a field remembers, many times over: it empties its memory, then stops
  // remembering; every answer along the way is the same as the first time.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5000; i++) {
      assert.deepEqual(of(`p${i}.exe`), []);
      if (i % 997 === 0) {
        assert.deepEqual(of("CMD.EXE"), [0, 2]);
        assert.deepEqual(of("cmd.exe"), [0, 2]);
        assert.deepEqual(of("RunDll32.exe"), [1]);
      }
    }
  }
  assert.deepEqual(of("Cmd.Exe"), [0, 2]);
  assert.deepEqual(of(["x", "rundll32.EXE"]), [1]);
});

/** Values the generated events draw from: every literal the rules test, in several letter cases. */
const CATEGORIES: JsonValue[] = ["process", "network", "file", "library", ["process", "network"], "PROCESS"];
const NAMES = ["cmd.exe", "CMD.EXE", "powershell.exe", "3CXDesktopApp.exe", "rundll32.exe", "x"];
const DOMAINS = ["raw.githubusercontent.com", "example.com", "akamaicontainer.com", "msstorageazure.com"];
const DLLS = ["ffmpeg.dll", "d3dcompiler_47.dll", "kernel32.dll"];

/** Paths and command lines for the wildcard shapes, in several letter cases and with non-ASCII text. */
const EXECUTABLES: JsonValue[] = [
  "C:\\Windows\\System32\\cmd.exe",
  "c:\\windows\\system32\\CMD.EXE",
  "C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe",
  "D:\\Temp\\evil\u202Egpj.exe",
  "C:\\Program Files\\app\\app.exe",
  "/usr/bin/python3",
  "C:\\WINDOWS\\TEMP\\İnstall.exe",
  42,
];
const COMMAND_LINES: JsonValue[] = [
  "cmd.exe /c whoami",
  "powershell.exe -EncodedCommand AAAA",
  "POWERSHELL -enc BBBB",
  "rundll32.exe javascript:foo",
  "python3 -c 'import pty'",
  "ΑΣ σ",
];
const ARGS = ["-enc", "-EncodedCommand", "/c", "whoami", "-NoP", "x"];

const eventArb = fc.record(
  {
    category: fc.constantFrom(...CATEGORIES),
    type: fc.constantFrom("start", "end", ["start", "info"], "connection_attempted"),
    action: fc.constantFrom("exec", "load", "lookup_result", "connection_attempted", "start"),
    os: fc.constantFrom("windows", "macos", "Windows"),
    name: fc.constantFrom(...NAMES),
    parent: fc.constantFrom(...NAMES),
    dll: fc.constantFrom(...DLLS),
    domain: fc.constantFrom(...DOMAINS),
    port: fc.constantFrom(443, "443", 3389, 80),
    user: fc.constantFrom("root", "alice"),
    exe: fc.constantFrom(...EXECUTABLES),
    cmd: fc.constantFrom(...COMMAND_LINES),
    args: fc.array(fc.constantFrom(...ARGS), { maxLength: 3 }),
    dotted: fc.boolean(),
    second: fc.integer({ min: 0, max: 59 }),
  },
  { requiredKeys: [] },
);

function toEvents(
  specs: readonly (typeof eventArb extends fc.Arbitrary<infer T> ? T : never)[],
): EventRecord[] {
  const sorted = [...specs].sort((a, b) => (a.second ?? 0) - (b.second ?? 0));
  return sorted.map((s, i) => {
    const source: JsonObject = {
      "@timestamp": `2024-05-01T10:00:${String(s.second ?? 0).padStart(2, "0")}Z`,
      host: { name: "h", os: { type: s.os ?? "windows" } },
    };
    const ev: JsonObject = {};
    if (s.category !== undefined) ev.category = s.category;
    if (s.type !== undefined) ev.type = s.type;
    if (s.action !== undefined) ev.action = s.action;
    source.event = ev;
    const proc: JsonObject = { name: s.name ?? "x", parent: { name: s.parent ?? "x" }, pid: i };
    if (s.exe !== undefined) proc.executable = s.exe;
    if (s.cmd !== undefined) proc.command_line = s.cmd;
    if (s.args !== undefined && s.args.length > 0) proc.args = s.args;
    if (s.dotted) source["process.name"] = proc.name;
    else source.process = proc;
    if (s.dll) source.dll = { name: s.dll };
    if (s.domain) source.dns = { question: { name: s.domain } };
    if (s.port !== undefined) source.destination = { port: s.port, domain: s.domain ?? "x" };
    if (s.user) source.user = { name: s.user };
    return event(source, String(i));
  });
}

const SHAPES: RuleSpec[] = [
  { type: "eql", query: 'process where event.type == "start" and process.name : "cmd.exe"' },
  { type: "eql", query: 'any where process.name : "powershell.exe"' },
  { type: "eql", query: 'library where dll.name : ("ffmpeg.dll", "d3dcompiler_47.dll")' },
  { type: "eql", query: 'network where destination.port == 443 or dns.question.name : "*.com"' },
  { type: "eql", query: 'process where host.os.type == "windows" and process.parent.name : "*.exe"' },
  { query: "event.category : process and process.name : (cmd.exe or rundll32.exe)" },
  { query: "dns.question.name : raw.githubusercontent.com or dll.name : ffmpeg.dll" },
  { query: "not process.name : cmd.exe and event.action : exec" },
  { query: "event.type : start or user.name : root" },
  { query: "host.os.type : windows and event.category : (network or file)" },
  {
    type: "eql",
    query:
      'sequence by host.name with maxspan=30s [process where process.name : "3CXDesktopApp.exe"] [library where dll.name : "ffmpeg.dll"]',
  },
  {
    type: "eql",
    query: 'sequence [process where event.type == "start"] [network where destination.port == 3389]',
  },
  // Wildcard and exact shapes the literal pre-checks (literals.ts) derive requirements from.
  { type: "eql", query: 'process where process.executable : "?:\\\\Windows\\\\*\\\\cmd.exe"' },
  { type: "eql", query: 'process where process.executable : ("*\\\\Temp\\\\*", "*\u202E*")' },
  { type: "eql", query: 'process where process.executable like "C:\\\\Program Files\\\\*"' },
  { type: "eql", query: 'process where process.executable == "/usr/bin/python3" or process.args : "-enc*"' },
  {
    type: "eql",
    query:
      'process where process.command_line : ("*-enc*", "*whoami*") and not process.args in ("/c") and process.executable : "*.exe"',
  },
  { type: "eql", query: 'process where process.executable : "*i?stall.exe" or process.command_line : "*σ*"' },
  {
    type: "eql",
    query: 'process where process.args in~ ("-ENCODEDCOMMAND", "-nop") and process.executable != null',
  },
  { type: "eql", query: 'any where process.executable : "*42*"' },
  { type: "eql", query: 'any where process.command_line : "*πython*" or process.args : "*-ENC*"' },
  { query: "process.executable : *\\\\Temp\\\\* or process.command_line : *EncodedCommand*" },
  { query: 'process.args : "-enc" and process.command_line : powershell*' },
  {
    type: "eql",
    query:
      'sequence by host.name with maxspan=30s [process where process.command_line : "*whoami*"] [process where process.executable : "*\\\\System32\\\\*"]',
  },
  {
    type: "threshold",
    query: "event.category : process",
    extra: 'threshold = { field = ["process.name"], value = 2 }',
  },
];

test("property: indexed dispatch gives the same alerts as every rule on every event", () => {
  const rules = SHAPES.map((s) => rule(s));
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 1, maxLength: 40 }), (specs) => {
      const events = toEvents(specs);
      assert.deepEqual(
        alertKeys(hunt({ rules }, events)),
        alertKeys(hunt({ rules, exhaustive: true }, events)),
      );
    }),
    { numRuns: 120 },
  );
});

test("3CX pack over generated events and its demo fleet: indexed dispatch = exhaustive", async () => {
  const set = await loadRuleSet({ rules: ["3cx"] });
  assert.ok(set.rules.length > 0);
  const run = async (exhaustive: boolean, events?: EventRecord[]) => {
    const h = new Hunt(huntOptionsFor(set, { schema: ecsSchema(), exhaustive }));
    if (events) {
      const pass = h.pass();
      pass.push(events);
      return pass.finish();
    }
    return (await runHunt(h, ["packs/3cx/demo/fleet.ndjson.gz"], {})).result;
  };
  const indexed = await run(false);
  assert.ok(indexed.alerts.length > 0, "the demo fleet produces alerts");
  assert.deepEqual(alertKeys(indexed), alertKeys(await run(true)));
  const generated = fc.sample(fc.array(eventArb, { minLength: 50, maxLength: 200 }), {
    numRuns: 10,
    seed: 7,
  });
  for (const specs of generated) {
    const events = toEvents(specs);
    assert.deepEqual(alertKeys(await run(false, events)), alertKeys(await run(true, events)));
  }
});

test("events without a readable timestamp still reach rules that do not need time order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quarry-untimed-"));
  try {
    const lines = [
      {
        "@timestamp": "2024-05-01T10:00:05Z",
        event: { category: "process" },
        host: { name: "h" },
        process: { name: "winword.exe" },
      },
      { event: { category: "process" }, host: { name: "h" }, process: { name: "cmd.exe" } },
      {
        "@timestamp": "2024-05-01T10:00:01Z",
        event: { category: "process" },
        host: { name: "h" },
        process: { name: "cmd.exe" },
      },
      {
        "@timestamp": "2024-05-01T10:00:09Z",
        event: { category: "process" },
        host: { name: "h" },
        process: { name: "cmd.exe" },
      },
      {
        "@timestamp": "not a time",
        event: { category: "process" },
        host: { name: "h" },
        process: { name: "cmd.exe" },
      },
    ];
    const file = join(dir, "events.ndjson");
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    const single = rule({ query: "process.name : cmd.exe" });
    const seq = rule({
      type: "eql",
      query:
        'sequence by host.name with maxspan=1m [process where process.name == "winword.exe"] [process where process.name == "cmd.exe"]',
    });
    const h = new Hunt({ rules: [single, seq], schema: ecsSchema() });
    assert.ok(h.needsTimeOrder);
    const issues: string[] = [];
    const { result, summary } = await runHunt(h, [file], { onIssue: (i) => issues.push(i.message) });
    assert.equal(summary.events, 5);
    assert.equal(result.alerts.filter((a) => a.ruleId === single.ruleId).length, 4, "every cmd.exe event");
    const seqAlerts = result.alerts.filter((a) => a.ruleId === seq.ruleId);
    assert.equal(seqAlerts.length, 1);
    assert.deepEqual(
      seqAlerts[0].sources.map((s) => s.id),
      ["1", "4"],
      "the sequence uses only timestamped events, in time order",
    );
    assert.equal(issues.length, 2, "both timestamp-less events are reported");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("literal pre-checks: shapes of patterns, and every wildcard shape above is checked and alerts", () => {
  assert.deepEqual(patternShape("?:\\Windows\\*\\CMD.exe", true), {
    suffix: "\\cmd.exe",
    contains: [":\\windows\\"],
  });
  assert.deepEqual(patternShape("C:\\Program Files\\*", false), { prefix: "c:\\program files\\" });
  assert.deepEqual(patternShape("*a*b?cd*", true), { contains: ["cd"] });
  assert.deepEqual(patternShape("*\u202E*", true), { contains: ["\u202E"] });
  assert.equal(patternShape("*İ*", true), undefined, "a cased non-ASCII piece requires nothing");
  assert.equal(patternShape("*", true), undefined);
  assert.deepEqual(exactShape("CMD.exe"), { equals: "cmd.exe" });

  const schema = ecsSchema();
  const values = new FoldedValues();
  const doc: JsonObject = {
    process: { executable: "C:\\WINDOWS\\system32\\Cmd.exe", args: ["-EncodedCommand", 7] },
  };
  const check = (query: string) => {
    const need = eqlTextNeed(compileEql(query, { schema }).query, schema);
    return compileTextCheck(need, values);
  };
  assert.equal(check('process where process.executable : "?:\\\\Windows\\\\*\\\\cmd.exe"')?.(doc), true);
  assert.equal(check('process where process.executable : "*\\\\Temp\\\\*"')?.(doc), false);
  // A non-string value may be coerced by the engine: it always passes.
  assert.equal(check('process where process.args : "*whoami*"')?.(doc), true);
  assert.equal(check('process where process.command_line : "*whoami*"')?.(doc), false, "missing field");
  assert.equal(check('process where not process.executable : "*\\\\Temp\\\\*"'), undefined, "under not");
  assert.equal(check('process where process.name == "cmd.exe"'), undefined, "routed by dispatch");

  // Every wildcard shape is pre-checked, and alerts on some generated events (the property above is
  // not vacuous for them).
  const wildcardShapes = SHAPES.filter((s) => /executable|command_line|args/.test(s.query ?? ""));
  const rules = wildcardShapes.map((s) => rule(s));
  for (const [i, s] of wildcardShapes.entries()) {
    const need =
      s.type === "eql"
        ? eqlTextNeed(compileEql(s.query ?? "", { schema }).query, schema)
        : kqlTextNeed(parseKql(s.query ?? ""), schema);
    // A branch on a cased non-ASCII piece (σ, π) requires nothing, so its whole `or` is unchecked.
    if (/[σπ]/.test(s.query ?? "")) assert.equal(need, undefined, s.query);
    else assert.ok(need, `shape ${i} has a pre-check: ${s.query}`);
  }
  const alerted = new Set<string>();
  for (const specs of fc.sample(fc.array(eventArb, { minLength: 30, maxLength: 60 }), {
    numRuns: 20,
    seed: 3,
  }))
    for (const a of hunt({ rules }, toEvents(specs)).alerts) alerted.add(a.ruleId);
  assert.equal(alerted.size, rules.length, "every wildcard shape alerts somewhere");
});

test("property: an index of 1,300 rules (several bitset words and summary words) = each rule's own index", () => {
  // Many fields under a few heads: slots cluster by field, so most fields constrain a narrow slot range.
  const fields = Array.from({ length: 40 }, (_, i) => `h${i % 4}.f${i}`);
  const vocabulary = ["process", "cmd.exe", "root", "3389", "x"];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const term = () => {
    const field = fields[next(fields.length)];
    return next(4) === 0
      ? { field }
      : { field, values: [vocabulary[next(vocabulary.length)], vocabulary[next(vocabulary.length)]] };
  };
  const routings = Array.from({ length: 1300 }, () => ({
    single: Array.from({ length: next(10) === 0 ? 0 : 1 + next(2) }, term),
    multi: next(3) === 0 ? [term(), term()] : undefined,
  }));
  const big = new RuleIndex(routings.map((routing, index) => ({ index, routing })));
  const own = routings.map((routing, index) => new RuleIndex([{ index, routing }]));
  const valueArb = fc.oneof(fc.constantFrom(...vocabulary, "CMD.EXE", "Root"), fc.constant(3389));
  const docArb = fc
    .array(fc.tuple(fc.nat(fields.length - 1), fc.oneof(valueArb, fc.array(valueArb, { maxLength: 2 }))), {
      maxLength: 30,
    })
    .map((pairs) => {
      const doc: Record<string, Record<string, JsonValue>> = {};
      for (const [k, v] of pairs) {
        const [head, leaf] = fields[k].split(".");
        doc[head] ??= {};
        doc[head][leaf] = v;
      }
      return doc as JsonObject;
    });
  fc.assert(
    fc.property(docArb, (doc) => {
      const buffer = new Int32Array(4096);
      const got = [...buffer.subarray(0, big.candidates(doc, buffer))];
      const expected: number[] = [];
      for (const index of own) expected.push(...buffer.subarray(0, index.candidates(doc, buffer)));
      assert.deepEqual(
        got.sort((a, b) => a - b),
        expected.sort((a, b) => a - b),
      );
    }),
    { numRuns: 300 },
  );
});

test("a pass of 64+ rules (documents projected) alerts as each rule does alone, dotted keys or not", () => {
  const rules: DetectionRule[] = [];
  for (let i = 0; i < 70; i++) {
    rules.push(
      rule(
        i % 2 === 0
          ? {
              ruleId: `r${i}`,
              type: "query",
              language: "kuery",
              query: `process.parent.name : "p${i % 7}.exe"`,
            }
          : { ruleId: `r${i}`, type: "eql", language: "eql", query: `process where user.name : "u${i % 5}"` },
      ),
    );
  }
  const docs: JsonObject[] = [];
  for (let k = 0; k < 60; k++) {
    const parent = `P${k % 7}.EXE`;
    const user = `u${k % 5}`;
    const shapes: JsonObject[] = [
      { event: { category: "process" }, process: { parent: { name: parent } }, user: { name: user } },
      { "event.category": "process", "process.parent.name": parent, "user.name": user },
      { event: { category: ["process"] }, process: { "parent.name": [parent] }, user: [{ name: user }] },
    ];
    docs.push({ "@timestamp": `2023-03-29T10:00:${String(k).padStart(2, "0")}.000Z`, ...shapes[k % 3] });
  }
  // Fresh documents for every pass: a mark stays on the document it was put on.
  const events = () => docs.map((d, k) => event(JSON.parse(JSON.stringify(d)) as JsonObject, `e${k}`));
  const together = alertKeys(hunt({ rules }, events()));
  const alone = rules.flatMap((r) => alertKeys(hunt({ rules: [r] }, events()))).sort();
  assert.ok(together.length > 100);
  assert.deepEqual(together, alone);
});
