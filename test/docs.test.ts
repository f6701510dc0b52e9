/** docs/compatibility.md is generated from the per-area fragments; it must never drift from them. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

test("docs/compatibility.md is up to date with docs/compatibility/*.md", async () => {
  const { buildCompatibility } = (await import(join(repo, "scripts", "build-compatibility.mjs"))) as {
    buildCompatibility: () => string;
  };
  assert.equal(
    readFileSync(join(repo, "docs", "compatibility.md"), "utf8"),
    buildCompatibility(),
    "run node scripts/build-compatibility.mjs",
  );
});
