import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isUnreadable, triageBuffer, triageFile } from "../../src/triage/index.js";
import {
  buildIcoDeadDrop,
  buildMainStorage,
  buildMinimalPe,
  buildSuddenIconCarrier,
  sha256,
} from "../fixtures-gen/suddenicon.js";

const dir = mkdtempSync(join(tmpdir(), "quarry-triage-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test("result shape: file path, size and sha256; one finding per artefact", async () => {
  const carrier = buildSuddenIconCarrier();
  const path = file("d3dcompiler_47.dll", carrier.bytes);
  const result = await triageFile(path);
  assert.deepEqual(result.file, { path, size: carrier.bytes.length, sha256: sha256(carrier.bytes) });
  assert.deepEqual(
    result.findings.map((f) => f.kind),
    ["carrier"],
  );
  assert.equal(result.error, undefined);
  // JSON-serialisable as is (no bigint, no buffers).
  assert.deepEqual(JSON.parse(JSON.stringify(result)), result);
});

test("no known artefact is an empty findings list, without error", async () => {
  for (const [name, bytes] of [
    ["notes.txt", "hello"],
    ["plain.dll", buildMinimalPe()],
  ] as const) {
    const result = await triageFile(file(name, bytes));
    assert.deepEqual(result.findings, [], name);
    assert.equal(result.error, undefined, name);
  }
});

test("icons and .main_storage are recognised by content", async () => {
  const icon = await triageFile(
    file("icon7.ico", buildIcoDeadDrop({ url: "https://sourceslabs.com/downloads" }).bytes),
  );
  assert.equal(icon.findings[0]?.kind, "ico-dead-drop");
  const storage = await triageFile(file("renamed.bin", buildMainStorage()));
  assert.equal(storage.findings[0]?.kind, "main-storage");
  const named = await triageFile(file(".main_storage", "x".repeat(56)));
  assert.equal(named.error?.code, "TRIAGE030");
});

test("unreadable inputs: missing, directory, FIFO, too large, empty", async () => {
  const missing = await triageFile(join(dir, "nope"));
  assert.equal(missing.error?.code, "TRIAGE001");
  assert.match(missing.error?.message ?? "", /ENOENT/);
  assert.deepEqual(missing.file, { path: join(dir, "nope"), size: null, sha256: null });
  assert.ok(isUnreadable(missing));

  const directory = await triageFile(dir);
  assert.match(directory.error?.message ?? "", /is a directory/);

  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const pipe = await triageFile(fifo); // must not block waiting for a writer
  assert.match(pipe.error?.message ?? "", /not a regular file/);

  const big = await triageFile(file("big.bin", new Uint8Array(2048)), { maxFileSize: 1024 });
  assert.equal(big.error?.code, "TRIAGE003");
  assert.equal(big.file.size, 2048);
  assert.ok(isUnreadable(big));

  const empty = await triageFile(file("empty", ""));
  assert.deepEqual(empty.error, { code: "TRIAGE002", message: "empty file (0 bytes)" });
  assert.equal(empty.file.size, 0);
  assert.ok(!isUnreadable(empty));
});

test("unreadable by permission (skipped when running as root)", {
  skip: process.getuid?.() === 0,
}, async () => {
  const path = file("secret.dll", buildMinimalPe());
  chmodSync(path, 0o000);
  const result = await triageFile(path);
  assert.equal(result.error?.code, "TRIAGE001");
  assert.match(result.error?.message ?? "", /EACCES/);
});

test("errors are per file: a corrupt carrier reports TRIAGE010 with its findings", async () => {
  const carrier = buildSuddenIconCarrier();
  const bytes = Uint8Array.from(carrier.bytes);
  new DataView(bytes.buffer).setUint32(0x3c, 0xfffffff0, true);
  const result = await triageBuffer(bytes, "broken.dll");
  assert.equal(result.error?.code, "TRIAGE010");
  assert.equal(result.findings.length, 1);
});

test("--extract writes stage and inner DLL as <sha256>, mode 0644, idempotently", async () => {
  const carrier = buildSuddenIconCarrier();
  const out = join(dir, "extract");
  const first = await triageBuffer(carrier.bytes, "d3d.dll", { extractDir: out });
  const finding = first.findings[0];
  assert.equal(finding?.kind, "carrier");
  if (finding?.kind !== "carrier") return;
  const stagePath = join(out, carrier.stageSha256);
  const dllPath = join(out, carrier.innerDllSha256);
  assert.equal(finding.stage.extractedTo, stagePath);
  assert.equal(finding.embeddedPes[0].extractedTo, dllPath);
  assert.deepEqual(Uint8Array.from(readFileSync(stagePath)), carrier.stage);
  assert.deepEqual(Uint8Array.from(readFileSync(dllPath)), carrier.innerDll);
  assert.equal(statSync(stagePath).mode & 0o777, 0o644);
  assert.equal(statSync(dllPath).mode & 0o777, 0o644);
  // Again: same content already there is fine.
  const second = await triageBuffer(carrier.bytes, "d3d.dll", { extractDir: out });
  const again = second.findings[0];
  assert.ok(again?.kind === "carrier" && again.stage.extractedTo === stagePath && !again.stage.extractError);
});

test("--extract never overwrites a different file, nor follows a symlink", async () => {
  const carrier = buildSuddenIconCarrier({ stubLength: 100 });
  const out = join(dir, "extract-conflict");
  mkdirSync(out);
  writeFileSync(join(out, carrier.stageSha256), "something else");
  const victim = file("victim.txt", "keep me");
  symlinkSync(victim, join(out, carrier.innerDllSha256));
  const result = await triageBuffer(carrier.bytes, "d3d.dll", { extractDir: out });
  const f = result.findings[0];
  assert.ok(f?.kind === "carrier");
  if (f?.kind !== "carrier") return;
  assert.match(f.stage.extractError ?? "", /refusing to overwrite .* different content/);
  assert.equal(f.stage.extractedTo, undefined);
  assert.match(f.embeddedPes[0].extractError ?? "", /not a regular file/);
  assert.equal(readFileSync(join(out, carrier.stageSha256), "utf8"), "something else");
  assert.equal(readFileSync(victim, "utf8"), "keep me");
});

test("an RC4 key outside 1..256 bytes is a caller error", async () => {
  await assert.rejects(triageBuffer(Buffer.from("MZ"), "x", { rc4Key: new Uint8Array(0) }), RangeError);
});
