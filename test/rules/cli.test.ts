import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildProgram } from "../../src/cli/main.js";
import { tempDir } from "../helpers/tmp.js";
import { ndjson, proc, ruleToml } from "./fixtures.js";

// dist/test/rules -> repository root.
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const tmp = tempDir();

/**
 * The quarry binary when main.ts wires `hunt` and `rules`; until then, an equivalent entry point with
 * the same top-level handling, so these tests exercise the commands' exit codes either way.
 */
function entry(): string[] {
  const wired = buildProgram().commands.some((c) => c.name() === "hunt");
  if (wired) return [join(root, "bin/quarry.js")];
  const script = tmp.file(
    "entry.mjs",
    `import { createRequire } from "node:module";
const { Command, CommanderError } = createRequire(${JSON.stringify(join(root, "package.json"))})("commander");
import { registerHuntCommand } from ${JSON.stringify(join(root, "dist/src/cli/commands/hunt.js"))};
import { registerRulesCommand } from ${JSON.stringify(join(root, "dist/src/cli/commands/rules.js"))};
import { printError, raiseExitCode } from ${JSON.stringify(join(root, "dist/src/cli/common.js"))};
const program = new Command("quarry").exitOverride().configureOutput({ outputError: (t, w) => w(t) });
registerHuntCommand(program);
registerRulesCommand(program);
for (const c of program.commands) { c.exitOverride(); for (const s of c.commands) s.exitOverride(); }
try { await program.parseAsync(process.argv); }
catch (e) {
  if (e instanceof CommanderError) raiseExitCode(e.exitCode === 0 ? 0 : 2);
  else { try { raiseExitCode(printError(e)); } catch (u) { console.error(u); process.exitCode = 70; } }
}
`,
  );
  return [script];
}

const ENTRY = entry();

function quarry(...args: string[]) {
  const r = spawnSync(process.execPath, [...ENTRY, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const rulesDir = join(tmp.dir, "rules");
const cmdRule = join(rulesDir, "cmd.toml");
const brokenRule = join(rulesDir, "broken.toml");
const events = join(tmp.dir, "events.ndjson");
writeFixtures();

function writeFixtures(): void {
  mkdirSync(rulesDir);
  writeFileSync(
    cmdRule,
    ruleToml({ name: "Cmd started", severity: "high", query: "process.name : cmd.exe" }),
  );
  writeFileSync(
    events,
    ndjson([proc("cmd.exe", "2024-05-01T10:00:00Z"), proc("notepad.exe", "2024-05-01T10:00:01Z")]),
  );
  writeFileSync(join(rulesDir, "cmd.tp.ndjson"), ndjson([proc("cmd.exe", "2024-05-01T10:00:00Z")]));
  writeFileSync(join(rulesDir, "cmd.tn.ndjson"), ndjson([proc("notepad.exe", "2024-05-01T10:00:00Z")]));
}

test("hunt with no input explains how to point it at data and exits 2", () => {
  const r = quarry("hunt");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs events to read/);
});

test("hunt: alerts as ndjson, exit 0; --fail-on decides exit 1", () => {
  const r = quarry("hunt", "--rules", rulesDir, "--format", "ndjson", events);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0])["kibana.alert.rule.name"], "Cmd started");
  assert.equal(quarry("hunt", "--rules", rulesDir, "--fail-on", "high", "--format", "json", events).code, 1);
  assert.equal(
    quarry("hunt", "--rules", rulesDir, "--fail-on", "critical", "--format", "json", events).code,
    0,
  );
  assert.equal(quarry("hunt", "--rules", rulesDir, "--fail-on", "bogus", events).code, 2);
});

test("hunt: a broken rule in a folder is reported and the others run; --strict or naming it makes it exit 2", () => {
  writeFileSync(brokenRule, "[rule]\nname = \n");
  try {
    const r = quarry("hunt", "--rules", rulesDir, "--format", "ndjson", events);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /broken\.toml:2:\d+/);
    assert.equal(r.stdout.trim().split("\n").length, 1);
    assert.equal(quarry("hunt", "--rules", rulesDir, "--strict", "--format", "ndjson", events).code, 2);
    assert.equal(
      quarry("hunt", "--rules", brokenRule, "--rules", cmdRule, "--format", "ndjson", events).code,
      2,
    );
  } finally {
    writeFileSync(brokenRule, ruleToml({ query: "process.name : never.exe" }));
  }
});

test("hunt: a rule past --max-state stops and is reported, the others' alerts stay; --strict exits 2", () => {
  const dir = join(tmp.dir, "state-rules");
  mkdirSync(dir);
  writeFileSync(
    join(dir, "seq.toml"),
    ruleToml({
      type: "eql",
      name: "Start then network",
      query: 'sequence by process.pid [process where event.type == "start"] [network where true]',
    }),
  );
  writeFileSync(join(dir, "cmd.toml"), ruleToml({ name: "Cmd started", query: "process.name : cmd.exe" }));
  const input = join(tmp.dir, "starts.ndjson");
  writeFileSync(
    input,
    ndjson(
      Array.from({ length: 20 }, (_, pid) =>
        proc("cmd.exe", `2024-05-01T10:00:${String(pid).padStart(2, "0")}Z`, {
          process: { name: "cmd.exe", pid },
        }),
      ),
    ),
  );
  const r = quarry("hunt", "--rules", dir, "--max-state", "5", "--format", "json", input);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /rule "Start then network" .* stopped after \d+ events: sequence state exceeded 5/);
  assert.match(r.stderr, /EQL172/);
  const report = JSON.parse(r.stdout) as {
    alerts: unknown[];
    rules: Record<string, { name: string; status: string; reason?: string }>;
    input: { errors: string[] };
  };
  assert.equal(report.alerts.length, 20);
  const seq = Object.values(report.rules).find((x) => x.name === "Start then network")!;
  assert.equal(seq.status, "ran");
  assert.match(seq.reason ?? "", /^stopped after/);
  assert.ok(report.input.errors.some((e) => e.includes("stopped after")));
  assert.equal(
    quarry("hunt", "--rules", dir, "--max-state", "5", "--strict", "--format", "json", input).code,
    2,
  );
  assert.equal(quarry("hunt", "--rules", dir, "--format", "json", input).code, 0);
  assert.equal(quarry("hunt", "--rules", dir, "--max-state", "0", input).code, 2);
});

test("hunt: unknown --rules name is a usage error; unreadable input exits 3", () => {
  assert.equal(quarry("hunt", "--rules", "no-such-pack", events).code, 2);
  assert.equal(quarry("hunt", "--rules", rulesDir, join(tmp.dir, "missing.ndjson")).code, 3);
});

test("hunt: every output format renders", () => {
  for (const format of ["table", "json", "csv", "html"]) {
    const r = quarry("hunt", "--rules", rulesDir, "--format", format, events);
    assert.equal(r.code, 0, `${format}: ${r.stderr}`);
    assert.ok(r.stdout.includes("Cmd started"), format);
  }
  const out = join(tmp.dir, "report.html");
  assert.equal(quarry("hunt", "--rules", rulesDir, "--format", "html", "--output", out, events).code, 0);
});

test("rules lint: counts by type, field did-you-mean, broken queries exit 2", () => {
  const dir = join(tmp.dir, "lint");
  mkdirSync(dir);
  writeFileSync(join(dir, "typo.toml"), ruleToml({ query: "proces.name : cmd.exe" }));
  writeFileSync(join(dir, "esql.toml"), ruleToml({ type: "esql", language: "esql", query: "from x" }));
  let r = quarry("rules", "lint", dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /field proces\.name is not in the schema \(did you mean process\.name/);
  assert.match(r.stdout, /query\s+1 runnable\s+0 not runnable/);
  assert.match(r.stdout, /esql\s+0 runnable\s+1 not runnable/);
  writeFileSync(join(dir, "bad.toml"), ruleToml({ query: "process.name : (cmd.exe" }));
  r = quarry("rules", "lint", dir);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /error: .*bad\.toml/);
});

test("rules test: tp must alert, tn must not; failures listed with exit 1", () => {
  let r = quarry("rules", "test", cmdRule);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /2 passed, 0 failed/);
  writeFileSync(join(rulesDir, "cmd.tn.ndjson"), ndjson([proc("cmd.exe", "2024-05-01T10:00:00Z")]));
  r = quarry("rules", "test", cmdRule);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAILED {2}Cmd started/);
  assert.match(r.stdout, /1 unexpected alert/);
});

test("hunt: a pack's protected rule refuses exceptions (reported) unless --force-exceptions; --rules none with --iocs", () => {
  const pack = join(tmp.dir, "pack");
  mkdirSync(join(pack, "rules"), { recursive: true });
  mkdirSync(join(pack, "iocs"));
  const id = "cccccccc-0000-4000-8000-000000000001";
  writeFileSync(
    join(pack, "rules", "inject.toml"),
    ruleToml({
      ruleId: id,
      name: "Shellcode injection",
      severity: "critical",
      query: "process.name : cmd.exe",
    }),
  );
  writeFileSync(join(pack, "iocs", "d.txt"), "evil.example\n");
  writeFileSync(
    join(pack, "pack.toml"),
    `name = "demo"\nversion = "1"\n[[iocs]]\nfile = "iocs/d.txt"\nname = "Demo IOC"\n[protected]\nrule_ids = ["${id}"]\nreason = "never silence injection alerts"\n`,
  );
  const exceptions = tmp.file(
    "ex.ndjson",
    `${JSON.stringify({ list_id: "L", name: "tuning", type: "detection" })}\n${JSON.stringify({ list_id: "L", item_id: "1", name: "all cmd", entries: [{ field: "process.name", operator: "included", type: "match", value: "cmd.exe" }] })}\n`,
  );
  let r = quarry("hunt", "--rules", pack, "--exceptions", exceptions, "--format", "json", events);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /not applied to rule "Shellcode injection".*never silence injection alerts/);
  let doc = JSON.parse(r.stdout);
  assert.equal(doc.alerts.length, 1);
  assert.deepEqual(doc.rules[id].exceptions_refused, ["tuning (refused)"]);
  r = quarry(
    "hunt",
    "--rules",
    pack,
    "--exceptions",
    exceptions,
    "--force-exceptions",
    "--format",
    "json",
    events,
  );
  doc = JSON.parse(r.stdout);
  assert.equal(doc.alerts.length, 0);
  assert.match(r.stderr, /applied to protected rule/);
  const dns = tmp.file(
    "dns.ndjson",
    ndjson([
      {
        "@timestamp": "2024-05-01T10:00:00Z",
        dns: { question: { name: "a.evil.example" } },
        host: { name: "h1" },
      },
    ]),
  );
  r = quarry("hunt", "--rules", "none", "--iocs", join(pack, "iocs", "d.txt"), "--format", "ndjson", dns);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim())["kibana.alert.rule.type"], "ioc");
  assert.equal(quarry("hunt", "--rules", "none", dns).code, 2, "nothing to run");
});
