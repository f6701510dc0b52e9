/** The walker: order, symlink loops, special files, unreadable paths, excludes. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { compileGlob, type WalkIssue, walkInputs } from "../../src/scan/index.js";
import { tempDir } from "../helpers/tmp.js";

async function walk(inputs: string[], exclude: string[] = []) {
  const issues: WalkIssue[] = [];
  const files: string[] = [];
  for await (const e of walkInputs(inputs, {
    exclude: exclude.map(compileGlob),
    onIssue: (i) => issues.push(i),
  })) {
    files.push(e.path);
  }
  return { files, issues };
}

test("files come in name order, recursively, with their sizes", async () => {
  const tmp = tempDir("quarry-walk-");
  mkdirSync(join(tmp.dir, "b"));
  mkdirSync(join(tmp.dir, "a"));
  tmp.file("b/2.bin", "22");
  tmp.file("b/1.bin", "1");
  tmp.file("a/z.bin", "zzz");
  tmp.file("c.bin", "");
  const sizes: Record<string, number> = {};
  for await (const e of walkInputs([tmp.dir])) sizes[e.path.slice(tmp.dir.length + 1)] = e.size;
  assert.deepEqual(Object.keys(sizes), ["a/z.bin", "b/1.bin", "b/2.bin", "c.bin"]);
  assert.deepEqual(Object.values(sizes), [3, 1, 2, 0]);
});

test("a symlink loop is walked once and reported, never followed forever", async () => {
  const tmp = tempDir("quarry-walk-loop-");
  mkdirSync(join(tmp.dir, "d"));
  tmp.file("d/f.bin", "x");
  symlinkSync("..", join(tmp.dir, "d", "up"));
  symlinkSync(join(tmp.dir, "d"), join(tmp.dir, "again"));
  const { files, issues } = await walk([tmp.dir]);
  assert.deepEqual(
    files.map((f) => f.slice(tmp.dir.length + 1)),
    // `again` sorts before `d`: the folder is walked through the link, and `d` itself is then a repeat.
    ["again/f.bin"],
  );
  assert.ok(issues.every((i) => i.kind === "loop"));
  assert.equal(issues.length, 2);
});

test("a symlink to a file is followed; a dangling link is reported as unreadable", async () => {
  const tmp = tempDir("quarry-walk-links-");
  const target = tmp.file("real.bin", "abc");
  symlinkSync(target, join(tmp.dir, "link.bin"));
  symlinkSync(join(tmp.dir, "nowhere"), join(tmp.dir, "dangling"));
  const { files, issues } = await walk([tmp.dir]);
  assert.deepEqual(
    files.map((f) => f.slice(tmp.dir.length + 1)),
    ["link.bin", "real.bin"],
  );
  assert.equal(issues.length, 1);
  assert.equal(issues[0].kind, "unreadable");
  assert.match(issues[0].message, /dangling/);
});

test("FIFOs and sockets are skipped without being opened", async () => {
  const tmp = tempDir("quarry-walk-fifo-");
  execFileSync("mkfifo", [join(tmp.dir, "pipe")]);
  tmp.file("plain.bin", "x");
  const { files, issues } = await walk([tmp.dir]);
  assert.deepEqual(
    files.map((f) => f.slice(tmp.dir.length + 1)),
    ["plain.bin"],
  );
  assert.equal(issues.length, 1);
  assert.equal(issues[0].kind, "special");
  assert.match(issues[0].message, /FIFO/);
  // Named explicitly, it is still skipped (and does not block).
  const direct = await walk([join(tmp.dir, "pipe")]);
  assert.deepEqual(direct.files, []);
  assert.equal(direct.issues[0].explicit, true);
  // Character devices too.
  const dev = await walk(["/dev/null"]);
  assert.deepEqual(dev.files, []);
  assert.match(dev.issues[0].message, /character device/);
});

test("missing inputs and unlistable folders are reported, the rest still walked", async (t) => {
  const tmp = tempDir("quarry-walk-unreadable-");
  tmp.file("ok.bin", "x");
  const { files, issues } = await walk([join(tmp.dir, "missing"), tmp.dir]);
  assert.equal(files.length, 1);
  assert.equal(issues[0].kind, "unreadable");
  assert.equal(issues[0].explicit, true);
  assert.match(issues[0].message, /no such file/);
  if (process.getuid?.() === 0) {
    t.diagnostic(
      "running as root: permission bits do not stop reads, the locked-folder case is not testable",
    );
    return;
  }
  mkdirSync(join(tmp.dir, "locked"));
  tmp.file("locked/secret.bin", "x");
  chmodSync(join(tmp.dir, "locked"), 0o000);
  t.after(() => chmodSync(join(tmp.dir, "locked"), 0o755));
  const locked = await walk([tmp.dir]);
  assert.equal(locked.files.length, 1);
  assert.equal(locked.issues[0].kind, "unreadable");
});

test("--exclude globs skip files and whole folders under a folder", async () => {
  const tmp = tempDir("quarry-walk-exclude-");
  mkdirSync(join(tmp.dir, "node_modules"));
  mkdirSync(join(tmp.dir, "src"));
  tmp.file("node_modules/x.js", "x");
  tmp.file("src/a.ts", "x");
  tmp.file("src/b.log", "x");
  const { files } = await walk([tmp.dir], ["node_modules", "*.log"]);
  assert.deepEqual(
    files.map((f) => f.slice(tmp.dir.length + 1)),
    ["src/a.ts"],
  );
});
