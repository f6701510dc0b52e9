import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildIcoDeadDrop, buildSuddenIconCarrier } from "../fixtures-gen/suddenicon.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const commandModule = new URL("../../src/cli/commands/triage.js", import.meta.url).href;
// A minimal program around the command, as the lead's CLI will register it.
const program = `
import { Command } from "commander";
import { registerTriageCommand } from ${JSON.stringify(commandModule)};
const program = new Command("quarry");
registerTriageCommand(program);
await program.parseAsync(process.argv.slice(1), { from: "user" });
`;

function quarry(...args: string[]) {
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", program, "triage", ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "quarry-triage-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const carrier = buildSuddenIconCarrier();
const carrierPath = join(dir, "d3dcompiler_47.dll");
writeFileSync(carrierPath, carrier.bytes);
const iconPath = join(dir, "icon1.ico");
writeFileSync(iconPath, buildIcoDeadDrop({ url: "https://msstorageazure.com/window" }).bytes);
const textPath = join(dir, "readme.txt");
writeFileSync(textPath, "nothing to see");

test("JSON when stdout is not a terminal: an array, one object per input, in order", () => {
  const run = quarry(carrierPath, iconPath, textPath, join(dir, "missing"));
  assert.equal(run.code, 0, run.stderr);
  const results = JSON.parse(run.stdout);
  assert.equal(results.length, 4);
  assert.deepEqual(
    results.map((r: { file: { path: string } }) => r.file.path),
    [carrierPath, iconPath, textPath, join(dir, "missing")],
  );
  assert.equal(results[0].findings[0].kind, "carrier");
  assert.equal(results[0].findings[0].embeddedPes[0].sha256, carrier.innerDllSha256);
  assert.equal(results[1].findings[0].url, "https://msstorageazure.com/window");
  assert.deepEqual(results[2].findings, []);
  assert.equal(results[3].error.code, "TRIAGE001");
});

test("--format table", () => {
  const run = quarry("--format", "table", iconPath, textPath, carrierPath);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /ico dead drop: C2 URL https:\/\/msstorageazure\.com\/window \(GCM tag verified\)/,
  );
  assert.match(run.stdout, /readme\.txt .*\n {2}no known 3CX artefact/);
  assert.match(run.stdout, /carrier: FEEDFACE marker \(doubled\) at 0x[0-9a-f]+ in the certificate table/);
  assert.match(
    run.stdout,
    new RegExp(`embedded PE at 0x65d: amd64 DLL, \\d+ bytes, built .*sha256 ${carrier.innerDllSha256}`),
  );
});

test("exit 3 when no input could be read; 0 when at least one could", () => {
  assert.equal(quarry(join(dir, "a"), join(dir, "b")).code, 3);
  assert.equal(quarry(join(dir, "a"), textPath).code, 0);
});

test("usage errors exit 2 with a message", () => {
  const cases: [string[], RegExp][] = [
    [["--key", "xyz", textPath], /--key expects hex bytes/],
    [["--nonce", "abc", textPath], /--nonce expects hex bytes/],
    [["--key", "00".repeat(257), textPath], /at most 256/],
    [["--format", "xml", textPath], /Allowed choices are table, json/],
    [[], /missing required argument 'file'/],
    [["--bogus", textPath], /unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const run = quarry(...args);
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, message);
  }
  assert.equal(quarry("--help").code, 0);
});

test("--output writes the file; --extract writes the payloads", () => {
  const output = join(dir, "out.json");
  const extract = join(dir, "payloads");
  const run = quarry("--output", output, "--extract", extract, carrierPath);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "");
  const [result] = JSON.parse(readFileSync(output, "utf8"));
  assert.equal(result.findings[0].stage.extractedTo, join(extract, carrier.stageSha256));
  assert.ok(existsSync(join(extract, carrier.stageSha256)));
  assert.ok(existsSync(join(extract, carrier.innerDllSha256)));
  assert.equal(quarry("--output", join(dir, "no/such/dir/out.json"), textPath).code, 1);
});

test("--key applies to carriers; a key that cannot be AES-256 is a per-file error for icons", () => {
  const key = Buffer.from("0123456789abcdef");
  const custom = buildSuddenIconCarrier({ key });
  const path = join(dir, "custom.dll");
  writeFileSync(path, custom.bytes);
  const run = quarry("--key", key.toString("hex"), path, iconPath);
  assert.equal(run.code, 0, run.stderr);
  const [dll, icon] = JSON.parse(run.stdout);
  assert.equal(dll.findings[0].embeddedPes[0].sha256, custom.innerDllSha256);
  assert.equal(icon.error.code, "TRIAGE020");
  assert.match(icon.error.message, /16 bytes; AES-256-GCM needs 32/);
  const aes = quarry("--key", "00".repeat(32), "--nonce", "0x3b8a08ed0f9e08ca572109ef", iconPath);
  assert.equal(JSON.parse(aes.stdout)[0].findings[0].tagVerified, false);
});
