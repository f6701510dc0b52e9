import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeMainStorage } from "../../src/triage/main-storage.js";
import { buildMainStorage } from "../fixtures-gen/suddenicon.js";

test("decodes the UUID and timestamp of Wardle's example", () => {
  const result = decodeMainStorage(buildMainStorage(), true);
  assert.deepEqual(result, {
    finding: {
      kind: "main-storage",
      uuid: "fcd5e94a-aa69-393f-53e4-5e1057a616f1",
      timestamp: "1687451263",
      timestampIso: "2023-06-22T16:27:43Z",
      reservedBytesZero: true,
      notes: [],
    },
  });
});

test("the stored bytes are XOR 0x7A (the first byte of 'f' is 0x66 ^ 0x7a = 0x1c)", () => {
  const bytes = buildMainStorage();
  assert.equal(bytes[0], 0x1c);
  assert.equal(bytes[40], 0x7a, "a zero byte encodes as 0x7A");
});

test("any 56-byte file is tried; a mismatch is silent unless the file is named .main_storage", () => {
  const random = new Uint8Array(56).fill(0x41);
  assert.deepEqual(decodeMainStorage(random), { finding: null });
  assert.match(decodeMainStorage(random, true).error ?? "", /does not decode .* to a UUID/);
  assert.match(decodeMainStorage(new Uint8Array(12), true).error ?? "", /is 12 bytes/);
  assert.deepEqual(decodeMainStorage(new Uint8Array(12)), { finding: null });
});

test("huge timestamps stay exact as text; non-zero reserved bytes are noted", () => {
  const bytes = buildMainStorage({ timestamp: 0xffffffffffffffffn });
  const f = decodeMainStorage(bytes).finding;
  assert.equal(f?.timestamp, "18446744073709551615");
  assert.equal(f?.timestampIso, null);
  bytes[40] ^= 0x01;
  assert.equal(decodeMainStorage(bytes).finding?.reservedBytesZero, false);
  assert.match(decodeMainStorage(bytes).finding?.notes.join() ?? "", /36-47/);
});
