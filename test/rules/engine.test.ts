import assert from "node:assert/strict";
import { test } from "node:test";
import { compileEql } from "../../src/eql/index.js";
import type { EventRecord, JsonObject } from "../../src/events/types.js";
import { parseIndicators } from "../../src/intel/index.js";
import { compileKql } from "../../src/kql/index.js";
import { Hunt, type HuntOptions, type HuntResult } from "../../src/rules/engine.js";
import type { ExceptionList } from "../../src/rules/exceptions.js";
import { parseRuleText } from "../../src/rules/load.js";
import { defaultIocSpec, iocRule } from "../../src/rules/pack.js";
import type { DetectionRule } from "../../src/rules/types.js";
import { ecsSchema } from "../../src/schema/index.js";
import fc from "../fc.js";
import { event, proc, type RuleSpec, ruleToml } from "./fixtures.js";

function rule(spec: RuleSpec): DetectionRule {
  const { rule, errors } = parseRuleText(ruleToml(spec), "rule.toml");
  assert.deepEqual(errors, []);
  return rule!;
}

function hunt(options: Partial<HuntOptions> & { rules: DetectionRule[] }, events: EventRecord[]): HuntResult {
  const h = new Hunt({ schema: ecsSchema(), ...options });
  const pass = h.pass();
  pass.push(events);
  return pass.finish();
}

test("a KQL query rule alerts once per matching event with an ECS-shaped alert", () => {
  const r = rule({
    name: "Cmd",
    severity: "high",
    riskScore: 73,
    query: "process.name : cmd.exe and event.category : process",
  });
  const hit = event(proc("cmd.exe", "2024-05-01T10:00:00Z", { user: { name: "alice" } }), "7", "logs.ndjson");
  const res = hunt({ rules: [r] }, [hit, event(proc("notepad.exe", "2024-05-01T10:01:00Z"))]);
  assert.equal(res.alerts.length, 1);
  const a = res.alerts[0];
  const doc = a.doc;
  assert.equal(doc["kibana.alert.rule.name"], "Cmd");
  assert.equal(doc["kibana.alert.rule.rule_id"], r.ruleId);
  assert.equal(doc["kibana.alert.rule.type"], "query");
  assert.equal(doc["kibana.alert.severity"], "high");
  assert.equal(doc["kibana.alert.risk_score"], 73);
  assert.equal(doc["kibana.alert.original_time"], "2024-05-01T10:00:00Z");
  assert.deepEqual(doc["kibana.alert.ancestors"], [
    { id: "7", type: "event", index: "logs.ndjson", depth: 0 },
  ]);
  assert.equal((doc.event as JsonObject).kind, "signal");
  assert.equal(doc["kibana.alert.original_event.kind"], "event");
  assert.deepEqual((doc.host as JsonObject).name, "host-a", "source fields keep their shape");
  assert.equal(a.hostName, "host-a");
  assert.equal(
    doc["@timestamp"],
    "2024-05-01T10:01:00.000Z",
    "alert time is the run's now (the input's end)",
  );
  assert.match(
    String(doc["kibana.alert.reason"]),
    /^process event with process cmd\.exe, by alice on host-a created high alert Cmd\.$/,
  );
  const threat = doc["kibana.alert.rule.threat"] as JsonObject[];
  assert.equal((threat[0].tactic as JsonObject).id, "TA0002");
  assert.ok(
    Object.keys(doc).some((k) => k === "kibana.alert.rule.name"),
    "kibana.alert.* keys are flat",
  );
  assert.equal(res.rules[0].status, "ran");
  assert.equal(res.rules[0].alerts, 1);
});

test("EQL event and sequence rules; a sequence alert holds every member and the shared fields", () => {
  const single = rule({ type: "eql", query: 'process where process.name == "cmd.exe"' });
  const seq = rule({
    type: "eql",
    query:
      'sequence by host.name with maxspan=1m [process where process.name == "winword.exe"] [process where process.name == "cmd.exe"]',
  });
  const events = [
    event(proc("winword.exe", "2024-05-01T10:00:00Z", { user: { name: "bob" } })),
    event(proc("cmd.exe", "2024-05-01T10:00:30Z", { user: { name: "bob" } })),
    event(proc("cmd.exe", "2024-05-01T10:05:00Z", { host: { name: "host-b" } })),
  ];
  const res = hunt({ rules: [single, seq] }, events);
  const byRule = (id: string) => res.alerts.filter((a) => a.ruleId === id);
  assert.equal(byRule(single.ruleId).length, 2);
  const [s] = byRule(seq.ruleId);
  assert.ok(s);
  assert.equal(byRule(seq.ruleId).length, 1);
  assert.deepEqual(
    (s.doc["kibana.alert.ancestors"] as JsonObject[]).map((x) => x.id),
    [events[0].id, events[1].id],
  );
  assert.equal((s.doc.user as JsonObject).name, "bob", "fields all members share are kept");
  assert.equal(
    (s.doc.process as JsonObject | undefined)?.name,
    undefined,
    "fields members disagree on are dropped",
  );
  assert.equal(s.hostName, "host-a");
  assert.equal(s.doc["kibana.alert.original_time"], "2024-05-01T10:00:00Z");
});

test("threshold: group-by fields, value and cardinality", () => {
  const r = rule({
    type: "threshold",
    query: "event.category : authentication and event.outcome : failure",
    tables: `[rule.threshold]
field = ["user.name"]
value = 3
[[rule.threshold.cardinality]]
field = "source.ip"
value = 2`,
  });
  const fail = (user: string, ip: string, t: string) =>
    event({
      "@timestamp": t,
      event: { category: "authentication", outcome: "failure" },
      user: { name: user },
      source: { ip },
    });
  const res = hunt({ rules: [r] }, [
    fail("alice", "10.0.0.1", "2024-05-01T10:00:00Z"),
    fail("alice", "10.0.0.2", "2024-05-01T10:00:01Z"),
    fail("alice", "10.0.0.1", "2024-05-01T10:00:02Z"),
    fail("bob", "10.0.0.1", "2024-05-01T10:00:00Z"),
    fail("bob", "10.0.0.1", "2024-05-01T10:00:01Z"),
    fail("bob", "10.0.0.1", "2024-05-01T10:00:02Z"),
    fail("carol", "10.0.0.1", "2024-05-01T10:00:02Z"),
  ]);
  assert.equal(res.alerts.length, 1, "bob has the count but one source ip; carol too few");
  const a = res.alerts[0];
  assert.deepEqual(a.doc.user, { name: "alice" });
  assert.deepEqual(a.doc["kibana.alert.threshold_result"], {
    terms: [{ field: "user.name", value: "alice" }],
    count: 3,
    from: "2024-05-01T10:00:00.000Z",
    cardinality: [{ field: "source.ip", value: 2 }],
  });
  assert.equal((a.doc["kibana.alert.ancestors"] as JsonObject[]).length, 3);
});

test("new_terms: combinations first seen within the history window alert once", () => {
  const r = rule({
    type: "new_terms",
    query: "event.category : process",
    tables: `[rule.new_terms]
field = "new_terms_fields"
value = ["host.name", "process.name"]
[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "now-2d"`,
  });
  const events = [
    event(proc("old.exe", "2024-05-01T00:00:00Z")),
    event(proc("old.exe", "2024-05-05T00:00:00Z")),
    event(proc("new.exe", "2024-05-04T12:00:00Z")),
    event(proc("new.exe", "2024-05-05T00:00:00Z")),
    event(proc("new.exe", "2024-05-04T13:00:00Z", { host: { name: "host-b" } })),
  ];
  const res = hunt({ rules: [r] }, events);
  const got = res.alerts
    .map((a) => `${a.hostName}/${(a.doc.process as JsonObject).name}@${a.doc["kibana.alert.original_time"]}`)
    .sort();
  assert.deepEqual(got, ["host-a/new.exe@2024-05-04T12:00:00Z", "host-b/new.exe@2024-05-04T13:00:00Z"]);
  assert.deepEqual(res.alerts.find((a) => a.hostName === "host-a")?.doc["kibana.alert.new_terms"], [
    "host-a",
    "new.exe",
  ]);
  // --to moves "now": with now = 2024-05-02 the history window starts 2024-04-30 and old.exe is new too.
  const res2 = hunt({ rules: [r], now: { ms: Date.UTC(2024, 4, 2), nanos: 0 } }, events);
  assert.ok(res2.alerts.some((a) => (a.doc.process as JsonObject).name === "old.exe"));
});

test("threat_match rules run against IOC lists presented as threat-intel documents", () => {
  const r = rule({
    type: "threat_match",
    query: "destination.ip:*",
    extra: `threat_query = "@timestamp >= \\"now-30d/d\\" and event.module:threatintel and threat.indicator.ip:*"
threat_indicator_path = "threat.indicator"`,
    tables: `[[rule.threat_mapping]]
[[rule.threat_mapping.entries]]
field = "destination.ip"
type = "mapping"
value = "threat.indicator.ip"`,
  });
  const list = parseIndicators("# c2\n203.0.113.7\nevil.example\n", { name: "c2.txt" });
  const iocs = [{ rule: iocRule(defaultIocSpec("c2.txt")), list }];
  const events = [
    event({ "@timestamp": "2024-05-01T10:00:00Z", destination: { ip: "203.0.113.7" }, host: { name: "h" } }),
    event({ "@timestamp": "2024-05-01T10:00:01Z", destination: { ip: "198.51.100.1" } }),
  ];
  const res = hunt({ rules: [r], iocs }, events);
  const tm = res.alerts.filter((a) => a.ruleId === r.ruleId);
  assert.equal(tm.length, 1);
  const enrichment = ((tm[0].doc.threat as JsonObject).enrichments as JsonObject[])[0];
  assert.equal((enrichment.matched as JsonObject).atomic, "203.0.113.7");
  assert.equal((enrichment.matched as JsonObject).field, "destination.ip");
  assert.equal((enrichment.indicator as JsonObject).ip, "203.0.113.7");
  // The IOC list is itself a rule and alerts on the same event.
  const ioc = res.alerts.filter((a) => a.ruleType === "ioc");
  assert.equal(ioc.length, 1);
  assert.equal(ioc[0].ruleName, "IOC match: c2.txt");
  // Without IOC lists, threat_match is reported as not run, with the reason.
  const none = hunt({ rules: [r] }, events);
  assert.equal(none.rules[0].status, "not_run");
  assert.match(none.rules[0].reason ?? "", /no IOC lists loaded/);
});

test("IOC rules: domain indicators match subdomains and alert with enrichment", () => {
  const list = parseIndicators("evil[.]example\n", { name: "domains.txt" });
  const iocs = [
    { rule: iocRule({ ...defaultIocSpec("domains.txt"), severity: "critical", riskScore: 99 }), list },
  ];
  const res = hunt({ rules: [], iocs }, [
    event({ "@timestamp": "2024-05-01T10:00:00Z", dns: { question: { name: "cdn.evil.example" } } }),
    event({ "@timestamp": "2024-05-01T10:00:00Z", dns: { question: { name: "notevil.example" } } }),
  ]);
  assert.equal(res.alerts.length, 1);
  assert.equal(res.alerts[0].severity, "critical");
  const e = ((res.alerts[0].doc.threat as JsonObject).enrichments as JsonObject[])[0];
  assert.equal((e.matched as JsonObject).field, "dns.question.name");
});

test("esql, machine_learning and lucene rules are listed as not run with the reason", () => {
  const esql = rule({ type: "esql", language: "esql", query: "from logs-* | limit 1" });
  const ml = parseRuleText(
    `[metadata]\ncreation_date = "2024/01/01"\n[rule]\nrule_id = "ml-1"\nname = "ML"\ntype = "machine_learning"\nseverity = "low"\nrisk_score = 21\nmachine_learning_job_id = ["x"]\nanomaly_threshold = 50\n`,
    "ml.toml",
  ).rule!;
  const lucene = rule({ language: "lucene", query: "process.name:cmd.exe" });
  const res = hunt({ rules: [esql, ml, lucene] }, []);
  assert.deepEqual(
    res.rules.map((r) => [r.status, r.broken]),
    [
      ["not_run", false],
      ["not_run", false],
      ["not_run", false],
    ],
  );
  assert.match(res.rules[0].reason ?? "", /ES\|QL/);
  assert.match(res.rules[1].reason ?? "", /anomaly-detection/);
  assert.match(res.rules[2].reason ?? "", /Lucene/);
});

test("a rule whose query does not parse is not run and reported as broken; the others run", () => {
  const bad = rule({ query: "process.name : (cmd.exe" });
  const good = rule({ query: "process.name : cmd.exe" });
  const res = hunt({ rules: [bad, good] }, [event(proc("cmd.exe", "2024-05-01T10:00:00Z"))]);
  assert.equal(res.rules[0].status, "not_run");
  assert.equal(res.rules[0].broken, true);
  assert.ok(res.rules[0].diagnostic);
  assert.equal(res.alerts.length, 1);
});

test("exceptions suppress alerts; a protected rule refuses them unless forced", () => {
  const r = rule({ query: "process.name : cmd.exe", extra: "" });
  const list: ExceptionList = {
    listId: "L",
    name: "tuning",
    type: "detection",
    file: "tuning.ndjson",
    items: [
      {
        itemId: "1",
        name: "admin",
        entries: [{ type: "match", field: "user.name", operator: "included", value: "admin" }],
      },
    ],
  };
  const events = [
    event(proc("cmd.exe", "2024-05-01T10:00:00Z", { user: { name: "admin" } })),
    event(proc("cmd.exe", "2024-05-01T10:00:01Z", { user: { name: "eve" } })),
  ];
  assert.equal(hunt({ rules: [r], exceptions: [list] }, events).alerts.length, 1);
  const protectedRules = new Map([[r.ruleId, "never add exceptions to these alerts"]]);
  const refused = hunt({ rules: [r], exceptions: [list], protectedRules }, events);
  assert.equal(refused.alerts.length, 2);
  assert.equal(refused.refusals.length, 1);
  assert.equal(refused.refusals[0].ruleName, r.name);
  assert.equal(refused.refusals[0].reason, "never add exceptions to these alerts");
  const forced = hunt({ rules: [r], exceptions: [list], protectedRules, forceExceptions: true }, events);
  assert.equal(forced.alerts.length, 1);
});

test("rule filters apply to events (negated wildcard)", () => {
  const r = rule({
    query: "process.name : powershell.exe",
    tables: `[[rule.filters]]
[rule.filters.meta]
negate = true
[rule.filters.query.wildcard."process.executable"]
case_insensitive = true
value = "C:\\\\\\\\Tools\\\\\\\\*"`,
  });
  const res = hunt({ rules: [r] }, [
    event(
      proc("powershell.exe", "2024-05-01T10:00:00Z", {
        process: { name: "powershell.exe", executable: "c:\\tools\\powershell.exe" },
      }),
    ),
    event(
      proc("powershell.exe", "2024-05-01T10:00:00Z", {
        process: { name: "powershell.exe", executable: "C:\\Windows\\powershell.exe" },
      }),
    ),
  ]);
  assert.equal(res.alerts.length, 1);
  assert.equal(
    ((res.alerts[0].doc.process as JsonObject).executable as string).startsWith("C:\\Windows"),
    true,
  );
});

test("duplicate hits of one rule on one event collapse; max_signals truncates and is reported", () => {
  const r = rule({ query: "process.name : cmd.exe", extra: "max_signals = 2" });
  const e = event(proc("cmd.exe", "2024-05-01T10:00:00Z"));
  const many = [e, e, ...[1, 2, 3].map((i) => event(proc("cmd.exe", `2024-05-01T10:00:0${i}Z`)))];
  const res = hunt({ rules: [r] }, many);
  assert.equal(res.alerts.length, 2);
  assert.equal(res.rules[0].truncated, 2, "4 distinct events, 2 kept");
  assert.deepEqual(
    res.alerts.map((a) => a.doc["kibana.alert.original_time"]),
    ["2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"],
    "the earliest are kept",
  );
});

test("max_signals over many hits in any order: the earliest kept (ties in input order), the rest counted", () => {
  const r = rule({ query: "process.name : cmd.exe", extra: "max_signals = 3" });
  // 300 hits over 40 distinct seconds, shuffled: far past the 2 x max + 16 that triggers a cut, with
  // hits tied with the boundary and later ones arriving after the first cuts.
  const seconds = Array.from({ length: 300 }, (_, i) => (i * 7919) % 40);
  const events = seconds.map((sec, i) =>
    event(
      proc("cmd.exe", `2024-05-01T10:00:${String(sec).padStart(2, "0")}Z`, {
        process: { name: "cmd.exe", pid: i },
      }),
    ),
  );
  const res = hunt({ rules: [r] }, events);
  const expected = seconds
    .map((sec, i) => ({ sec, i }))
    .sort((a, b) => a.sec - b.sec || a.i - b.i)
    .slice(0, 3)
    .map((x) => x.i);
  assert.deepEqual(
    res.alerts.map((a) => (a.doc.process as JsonObject).pid),
    expected,
  );
  assert.equal(res.rules[0].truncated, 297);
});

test("max_signals: only kept hits' keys are held; a duplicate of a dropped hit is dropped again", () => {
  const r = rule({ query: "process.name : cmd.exe", extra: "max_signals = 2" });
  // 400 distinct events, then every one of them again (the same index and id: an export read twice).
  const events = Array.from({ length: 400 }, (_, i) =>
    event(
      proc(
        "cmd.exe",
        `2024-05-01T10:${String(Math.floor(i / 60)).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z`,
        {
          process: { name: "cmd.exe", pid: i },
        },
      ),
    ),
  );
  const pass = new Hunt({ schema: ecsSchema(), rules: [r] }).pass();
  pass.push(events);
  pass.push(events);
  // Cut at 2 x max + 16 hits: never more keys than that.
  assert.ok(pass.heldHitKeys() <= 2 * 2 + 16, `held ${pass.heldHitKeys()}`);
  const res = pass.finish();
  assert.deepEqual(
    res.alerts.map((a) => (a.doc.process as JsonObject).pid),
    [0, 1],
  );
  // The 398 dropped hits, and their 398 duplicates arriving after they were dropped.
  assert.equal(res.rules[0].truncated, 2 * 398);
});

test("a rule past its state cap stops and is reported; its alerts until then and every other rule's stay", () => {
  const seq = rule({
    type: "eql",
    name: "Start then network",
    query: 'sequence by process.pid [process where event.type == "start"] [network where true]',
  });
  const cmd = rule({ query: "process.name : cmd.exe" });
  const net = (pid: number, time: string) =>
    event({
      "@timestamp": time,
      event: { category: ["network"], type: ["connection"] },
      process: { name: "net.exe", pid },
    });
  const start = (pid: number, time: string) =>
    event(proc("cmd.exe", time, { process: { name: "cmd.exe", pid } }));
  // pid 1 completes a sequence first; then 6 distinct pids start and never connect: past a cap of 4.
  const events = [start(1, "2024-05-01T10:00:00Z"), net(1, "2024-05-01T10:00:01Z")];
  for (let pid = 2; pid <= 7; pid++) events.push(start(pid, `2024-05-01T10:00:0${pid}Z`));
  events.push(start(8, "2024-05-01T10:00:08Z"), net(8, "2024-05-01T10:00:09Z"));
  const res = hunt({ rules: [seq, cmd], maxPendingState: 4 }, events);
  const [seqReport, cmdReport] = res.rules;
  assert.equal(seqReport.status, "ran");
  assert.equal(seqReport.stopped, true);
  assert.equal(seqReport.diagnostic?.diagnostic.code, "EQL172");
  assert.match(
    seqReport.reason ?? "",
    /^stopped after \d+ events: sequence state exceeded 4 pending entries.*the alerts it made until then are kept$/,
  );
  // The sequence of pid 1 completed before the stop; pid 8's came after it.
  assert.equal(seqReport.alerts, 1);
  // It saw events until it stopped, not the two that came after.
  const stoppedAfter = Number(/^stopped after (\d+) events/.exec(seqReport.reason ?? "")?.[1]);
  assert.equal(seqReport.evaluated, stoppedAfter);
  assert.ok(stoppedAfter < events.length, `${stoppedAfter}`);
  assert.equal(cmdReport.stopped, undefined);
  assert.equal(cmdReport.alerts, 8);
  // Under the default cap the same events give both sequences.
  assert.equal(hunt({ rules: [seq] }, events).rules[0].alerts, 2);
});

test("the event that passes a sequence's state cap still gives the sequences it completes", () => {
  // Stage 1: args "x"; stage 2: name b.exe; keyed by user.name (multi-valued: one key per value).
  const seq = rule({
    type: "eql",
    name: "Args then b",
    query: 'sequence by user.name [process where process.args : "x"] [process where process.name : "b.exe"]',
  });
  const at = (s: number) => `2024-05-01T10:00:0${s}Z`;
  const events = [
    event(proc("a.exe", at(1), { process: { name: "a.exe", args: ["x"] }, user: { name: "u1" } })),
    event(proc("a.exe", at(2), { process: { name: "a.exe", args: ["x"] }, user: { name: "u9" } })),
    // Completes u1's sequence, and starts four more (u1 again among them): 2 - 1 + 4 = 5 pending, past 4.
    event(
      proc("b.exe", at(3), {
        process: { name: "b.exe", args: ["x"] },
        user: { name: ["u1", "u2", "u3", "u4"] },
      }),
    ),
    event(proc("b.exe", at(4), { process: { name: "b.exe", args: ["y"] }, user: { name: "u9" } })),
  ];
  const res = hunt({ rules: [seq], maxPendingState: 4 }, events);
  const [report] = res.rules;
  assert.equal(report.stopped, true);
  assert.equal(report.diagnostic?.diagnostic.code, "EQL172");
  // u1's sequence, completed by the third event, is kept; u9's (the fourth event) came after the stop.
  assert.equal(report.alerts, 1);
  assert.deepEqual(
    res.alerts.map((a) => a.sources.map((x) => x.id)),
    [[events[0].id, events[2].id]],
  );
  // Under a cap of 5 the rule runs to the end and both sequences alert.
  assert.equal(hunt({ rules: [seq], maxPendingState: 5 }, events).rules[0].alerts, 2);
});

test("an event with too many join-key combinations is skipped by the rule, which goes on with its state intact", () => {
  // Stage 1 is keyed by process.args, stage 2 by process.name.
  const seq = rule({
    type: "eql",
    name: "Args then name",
    query:
      'sequence [any where event.category == "process"] by process.args [any where true] by process.name',
  });
  const at = (sec: number, category: string, process: JsonObject) =>
    event({ "@timestamp": `2024-05-01T10:00:0${sec}Z`, event: { category: [category] }, process });
  const hostileArgs = Array.from({ length: 2000 }, (_, i) => `a${i}`);
  const events = [
    at(1, "process", { args: ["x"], name: "first" }),
    // Matches both stages: its stage-2 key "x" is fine, its 2,000 stage-1 keys are past the limit.
    at(2, "process", { args: hostileArgs, name: "x" }),
    at(3, "network", { name: "x" }),
  ];
  const res = hunt({ rules: [seq] }, events);
  const [report] = res.rules;
  assert.equal(report.stopped, undefined);
  assert.equal(report.skippedEvents, 1);
  assert.equal(report.diagnostic?.diagnostic.code, "EQL174");
  // The pending sequence of "x" was left as it was, so the third event completes it.
  assert.equal(report.alerts, 1);
  assert.deepEqual(
    (res.alerts[0].doc["kibana.alert.ancestors"] as JsonObject[]).map((a) => a.id),
    [events[0].id, events[2].id],
  );
});

test("new_terms and threshold rules past the state cap stop with their own codes; the cap holds at its size", () => {
  const newTerms = rule({
    type: "new_terms",
    name: "New pid",
    query: "process.name : cmd.exe",
    extra: 'new_terms_fields = ["process.pid"]\nhistory_window_start = "now-1m"',
  });
  const threshold = rule({
    type: "threshold",
    name: "Per pid",
    query: "process.name : cmd.exe",
    tables: '[rule.threshold]\nfield = ["process.pid"]\nvalue = 1',
  });
  const starts = (n: number) =>
    Array.from({ length: n }, (_, pid) =>
      event(
        proc("cmd.exe", `2024-05-01T10:00:${String(pid).padStart(2, "0")}Z`, {
          process: { name: "cmd.exe", pid },
        }),
      ),
    );
  const over = hunt({ rules: [newTerms, threshold], maxPendingState: 5 }, starts(6));
  assert.deepEqual(
    over.rules.map((r) => [r.stopped, r.diagnostic?.diagnostic.code, r.alerts]),
    [
      [true, "RULE221", 0],
      [true, "RULE222", 0],
    ],
  );
  assert.match(over.rules[0].reason ?? "", /new_terms state exceeded 5 term combinations.*gives no alerts$/);
  // Exactly at the cap: both run to the end and alert.
  const at = hunt({ rules: [newTerms, threshold], maxPendingState: 5 }, starts(5));
  assert.deepEqual(
    at.rules.map((r) => [r.stopped ?? false, r.alerts]),
    [
      [false, 5],
      [false, 5],
    ],
  );
});

test("--schedule: max_signals applies per run; events in schedule gaps are not seen", () => {
  const r = rule({ query: "process.name : cmd.exe", extra: 'max_signals = 1\ninterval = "10m"' });
  // Lookback 9m < interval 10m: minute 9..10 of each 10-minute slot is a gap (runs at :00, :10, ...).
  const events = [
    event(proc("cmd.exe", "2024-05-01T10:01:00Z")),
    event(proc("cmd.exe", "2024-05-01T10:02:00Z")),
    event(proc("cmd.exe", "2024-05-01T10:11:00Z")),
    event(proc("cmd.exe", "2024-05-01T10:20:30Z")),
  ];
  const once = hunt({ rules: [r] }, events);
  assert.equal(once.alerts.length, 1);
  const scheduled = hunt({ rules: [r], schedule: true }, events);
  assert.deepEqual(
    scheduled.alerts.map((a) => a.doc["kibana.alert.original_time"]),
    ["2024-05-01T10:01:00Z", "2024-05-01T10:11:00Z"],
  );
  assert.equal(
    scheduled.alerts[0].doc["@timestamp"],
    "2024-05-01T10:10:00.000Z",
    "alert time is the run's time",
  );
  assert.equal(scheduled.rules[0].truncated, 1);
});

test("timestamp_override falls back to @timestamp when the field is missing", () => {
  const r = rule({
    query: "process.name : cmd.exe",
    extra: 'timestamp_override = "event.ingested"\ninterval = "10m"',
  });
  const res = hunt({ rules: [r], schedule: true }, [event(proc("cmd.exe", "2024-05-01T10:01:00Z"))]);
  assert.equal(res.alerts.length, 1);
});

test("dispatch never hides a matching event from a rule (guarded vs exhaustive)", () => {
  const rules = [
    rule({ query: 'process.name : ("cmd.exe" or "powershell.exe") and event.category : process' }),
    rule({ query: "process.name : *shell* or user.name : root" }),
    rule({ type: "eql", query: 'process where process.name in~ ("CMD.EXE", "wscript.exe")' }),
    rule({ type: "eql", query: 'any where process.name : "cmd.exe"' }),
    rule({
      type: "eql",
      query: 'process where process.name : "cmd.exe" or process.parent.name == "explorer.exe"',
    }),
    rule({ query: 'not process.name : "cmd.exe"' }),
  ];
  const names = ["cmd.exe", "CMD.EXE", "Cmd.Exe", "powershell.exe", "wscript.exe", "explorer.exe", "x"];
  const events: EventRecord[] = [];
  let i = 0;
  for (const n of names)
    for (const p of names)
      events.push(
        event(
          proc(n, `2024-05-01T10:00:${String(i++ % 60).padStart(2, "0")}Z`, {
            process: { name: n, parent: { name: p } },
            user: { name: i % 5 ? "u" : "root" },
          }),
        ),
      );
  const res = hunt({ rules }, events);
  const schema = ecsSchema();
  for (const [k, r] of rules.entries()) {
    // Ground truth: the query's own predicate on every event, no dispatch.
    const q = r.type === "eql" ? compileEql(r.query!, { schema }) : compileKql(r.query!, { schema });
    const expected = events.filter((e) => q.matches!(e)).length;
    assert.ok(expected > 0, `rule ${k} matches something`);
    assert.equal(res.alerts.filter((a) => a.ruleId === r.ruleId).length, expected, `rule ${k}`);
  }
});

test("property: dispatch gives the same alerts as running every rule on every event", () => {
  const rules = [
    rule({ query: 'process.name : ("cmd.exe" or "powershell.exe") and event.category : process' }),
    rule({ query: "process.name.caseless : (cmd.exe or wscript.exe)" }),
    rule({ query: "destination.port : 3389 and network.transport : tcp" }),
    rule({ query: "user.name : root or process.parent.name : explorer.exe" }),
    rule({ query: "custom.field : * and not process.name : cmd.exe" }),
    rule({ query: "event.code : 4624" }),
    rule({ type: "eql", query: 'process where process.name in~ ("CMD.EXE", "wscript.exe")' }),
    rule({ type: "eql", query: "network where destination.port == 3389" }),
    rule({ type: "eql", query: 'any where process.parent.name : "explorer.exe" or user.name == "root"' }),
    rule({ type: "eql", query: 'process where process.name : "cmd.*"' }),
    rule({ type: "eql", query: 'process where process.name : ("cmd.ex?", "?script.exe")' }),
    rule({
      type: "eql",
      query:
        'sequence with maxspan=5s [process where process.name == "cmd.exe"] [network where destination.port == 3389]',
    }),
    rule({
      type: "eql",
      query:
        'sequence by host.name [process where process.name == "cmd.exe"] [network where destination.port in (3389, 22)]',
    }),
  ];
  const names = ["cmd.exe", "CMD.EXE", "Cmd.Exe", "powershell.exe", "wscript.exe", "explorer.exe", "x"];
  const nameArb = fc.constantFrom(...names);
  const eventArb = fc.record(
    {
      category: fc.constantFrom("process", "network", ["process", "network"], "file"),
      name: nameArb,
      parent: nameArb,
      user: fc.constantFrom("root", "alice", "ROOT"),
      port: fc.constantFrom(3389, "3389", 22, 3389.0, "443", 80),
      transport: fc.constantFrom("tcp", "TCP", "udp"),
      code: fc.constantFrom(4624, "4624", 4625),
      custom: fc.boolean(),
      dotted: fc.boolean(),
      second: fc.integer({ min: 0, max: 59 }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 1, maxLength: 30 }), (unsorted) => {
      // Sequence rules get events in time order (the hunt reads them so): sort, stably.
      const specs = [...unsorted].sort((a, b) => (a.second ?? 0) - (b.second ?? 0));
      const events = specs.map((s) => {
        const source: JsonObject = {
          "@timestamp": `2024-05-01T10:00:${String(s.second ?? 0).padStart(2, "0")}Z`,
          event: { category: s.category ?? "process", code: s.code ?? 1 },
          host: { name: "h" },
          user: { name: s.user ?? "alice" },
          destination: { port: s.port ?? 1 },
          network: { transport: s.transport ?? "udp" },
        };
        const proc: JsonObject = { name: s.name ?? "x", parent: { name: s.parent ?? "x" } };
        if (s.dotted) source["process.name"] = proc.name;
        else source.process = proc;
        if (s.dotted) source["process.parent"] = proc.parent;
        if (s.custom) source.custom = { field: "v" };
        return event(source);
      });
      const key = (r: HuntResult) =>
        r.alerts.map((a) => `${a.ruleId}:${a.sources.map((x) => x.id).join(",")}`).sort();
      assert.deepEqual(key(hunt({ rules }, events)), key(hunt({ rules, exhaustive: true }, events)));
    }),
    { numRuns: 150 },
  );
});

test("timestamp_override: rules naming different fields each use their own on the same event", () => {
  const extra = (field: string) => `timestamp_override = "${field}"\ninterval = "10m"`;
  const ingested = rule({ query: "process.name : cmd.exe", extra: extra("event.ingested") });
  const created = rule({ query: "process.name : cmd.exe", extra: extra("event.created") });
  const events = [
    event(
      proc("cmd.exe", "2024-05-01T10:01:00Z", {
        event: { ingested: "2024-05-01T10:21:00Z", created: "2024-05-01T10:41:00Z" },
      }),
    ),
    event(proc("x.exe", "2024-05-01T10:59:00Z")),
  ];
  const res = hunt({ rules: [ingested, created], schedule: true }, events);
  const at = (r: DetectionRule) =>
    res.alerts.filter((a) => a.ruleId === r.ruleId).map((a) => a.doc["@timestamp"]);
  // Each alert belongs to the scheduled run whose window holds the rule's own time field.
  assert.equal(at(ingested).length, 1);
  assert.equal(at(created).length, 1);
  assert.notEqual(at(ingested)[0], at(created)[0]);
  assert.ok(
    String(at(ingested)[0]) > "2024-05-01T10:21" && String(at(ingested)[0]) <= "2024-05-01T10:31",
    String(at(ingested)[0]),
  );
  assert.ok(
    String(at(created)[0]) > "2024-05-01T10:41" && String(at(created)[0]) <= "2024-05-01T10:51",
    String(at(created)[0]),
  );
});
