import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { Command, CommanderError } from "commander";
import { registerSimulateCommand } from "../../src/cli/commands/simulate.js";
import { CliError } from "../../src/cli/common.js";
import { simulateLines } from "../../src/simulate/index.js";
import { tempDir } from "../helpers/tmp.js";

const tmp = tempDir("quarry-sim-cli-");

function program(): Command {
  const p = new Command("quarry").exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerSimulateCommand(p);
  for (const sub of p.commands)
    sub.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return p;
}

async function simulate(args: string[]): Promise<void> {
  await program().parseAsync(["node", "quarry", "simulate", ...args]);
}

test("writes NDJSON and the truth file; the same lines as the library", async () => {
  const out = join(tmp.dir, "fleet.ndjson");
  const truth = join(tmp.dir, "truth.json");
  await simulate([
    "--seed",
    "3",
    "--hosts",
    "8",
    "--days",
    "2",
    "--infected",
    "3",
    "--events",
    "700",
    "-o",
    out,
    "--truth",
    truth,
  ]);
  const text = readFileSync(out, "utf8");
  const expected = [...simulateLines({ seed: 3, hosts: 8, days: 2, infected: 3, events: 700 })];
  assert.equal(text, `${expected.join("\n")}\n`);
  const report = JSON.parse(readFileSync(truth, "utf8")) as {
    hosts: Record<string, { compromised: boolean; variant: string }>;
    events: Record<string, string>;
  };
  assert.equal(Object.keys(report.hosts).length, 8);
  assert.equal(
    Object.values(report.hosts).filter((h) => h.variant !== "none" && h.variant !== "clean-3cx").length,
    3,
  );
});

test("--gzip and --bytes", async () => {
  const out = join(tmp.dir, "fleet.ndjson.gz");
  await simulate(["--hosts", "4", "--days", "1", "--bytes", "2M", "--gzip", "-o", out]);
  const text = gunzipSync(readFileSync(out)).toString("utf8");
  assert.ok(Buffer.byteLength(text) >= 2 * 1024 * 1024);
  assert.ok(text.endsWith("\n"));
  for (const line of text.trimEnd().split("\n").slice(0, 50)) JSON.parse(line);
});

test("usage errors: conflicting budgets, unknown variant, more infected than hosts", async () => {
  await assert.rejects(
    simulate(["--events", "10", "--bytes", "1M"]),
    (e: unknown) => e instanceof CommanderError && /cannot be used with/.test(e.message),
  );
  await assert.rejects(
    simulate(["--variants", "windows-full,nope"]),
    (e: unknown) => e instanceof CommanderError && /unknown variant nope/.test(e.message),
  );
  await assert.rejects(
    simulate(["--hosts", "2", "--infected", "3"]),
    (e: unknown) => e instanceof CliError && /cannot exceed hosts/.test(e.message),
  );
  await assert.rejects(
    simulate(["--noise", "3"]),
    (e: unknown) => e instanceof CommanderError && /fraction/.test(e.message),
  );
});

test("--variants restricts the infections", async () => {
  const truth = join(tmp.dir, "truth-variants.json");
  await simulate([
    "--hosts",
    "6",
    "--days",
    "1",
    "--infected",
    "4",
    "--variants",
    "installer-only",
    "--events",
    "300",
    "-o",
    join(tmp.dir, "v.ndjson"),
    "--truth",
    truth,
  ]);
  const report = JSON.parse(readFileSync(truth, "utf8")) as { hosts: Record<string, { variant: string }> };
  const variants = Object.values(report.hosts)
    .map((h) => h.variant)
    .filter((v) => v !== "none" && v !== "clean-3cx");
  assert.deepEqual(variants, ["installer-only", "installer-only", "installer-only", "installer-only"]);
});
