import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { Simulation } from "../../src/simulate/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const demo = [join(here, "../../packs/3cx/demo"), join(here, "../../../packs/3cx/demo")].find((d) =>
  existsSync(d),
)!;

test("the bundled demo fleet is exactly what its documented command produces", () => {
  const committed = gunzipSync(readFileSync(join(demo, "fleet.ndjson.gz")));
  const simulation = new Simulation({ seed: 2023, hosts: 30, days: 14, infected: 6, activityRate: 8 });
  const hash = createHash("sha256");
  let bytes = 0;
  for (const chunk of simulation.chunks()) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  assert.equal(bytes, committed.length, "regenerate packs/3cx/demo (see its README)");
  assert.equal(
    hash.digest("hex"),
    createHash("sha256").update(committed).digest("hex"),
    "regenerate packs/3cx/demo (see its README)",
  );
  const truth = JSON.parse(readFileSync(join(demo, "truth.json"), "utf8")) as {
    hosts: Record<string, { compromised: boolean }>;
  };
  assert.deepEqual(truth.hosts, simulation.truth().hosts);
  assert.equal(Object.values(truth.hosts).filter((h) => h.compromised).length, 6);
});
