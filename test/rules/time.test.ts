import assert from "node:assert/strict";
import { test } from "node:test";
import { lookbackMs, parseDuration, resolveDateMath } from "../../src/rules/time.js";

const now = Date.UTC(2024, 4, 15, 13, 45, 30, 250);

test("date math relative to a given now", () => {
  assert.equal(resolveDateMath("now", now), now);
  assert.equal(resolveDateMath("now-6m", now), now - 6 * 60_000);
  assert.equal(resolveDateMath("now-30d/d", now), Date.UTC(2024, 3, 15));
  assert.equal(resolveDateMath("now+1h", now), now + 3_600_000);
  assert.equal(resolveDateMath("now-1M", now), Date.UTC(2024, 3, 15, 13, 45, 30, 250));
  assert.equal(resolveDateMath("now/w", now), Date.UTC(2024, 4, 13));
  assert.equal(resolveDateMath("now-1d-12h", now), now - 36 * 3_600_000);
  assert.equal(resolveDateMath("yesterday", now), undefined);
  assert.equal(resolveDateMath("now-5x", now), undefined);
});

test("durations and lookbacks", () => {
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("five minutes"), undefined);
  assert.equal(lookbackMs("now-9m"), 540_000);
  assert.equal(lookbackMs("now-7205m"), 7205 * 60_000);
});
