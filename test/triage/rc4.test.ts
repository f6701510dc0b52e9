import assert from "node:assert/strict";
import { test } from "node:test";
import { CARRIER_RC4_KEY } from "../../src/triage/constants.js";
import { rc4, rc4Keystream } from "../../src/triage/rc4.js";
import fc from "../fc.js";
import { fixtureRc4, PUBLISHED_RC4_KEY } from "../fixtures-gen/suddenicon.js";

test("keystream of the 3CX key starts with the published 32 bytes (FACTS.md §3.2)", () => {
  assert.equal(
    Buffer.from(rc4Keystream(CARRIER_RC4_KEY, 32)).toString("hex"),
    "9561d59970f049c74461c204aecd416d0834aa0cc238a0e6089bf51f8995cab0",
  );
});

test("the key constant is the 12 ASCII bytes 3jB(2bsG#@c7", () => {
  assert.equal(Buffer.from(CARRIER_RC4_KEY).toString("latin1"), "3jB(2bsG#@c7");
  assert.deepEqual(CARRIER_RC4_KEY, PUBLISHED_RC4_KEY);
});

test("classic RC4 test vector: Key / Plaintext", () => {
  const out = rc4(Buffer.from("Key"), Buffer.from("Plaintext"));
  assert.equal(Buffer.from(out).toString("hex"), "bbf316e8d940af0ad3");
});

test("encryption is its own inverse and agrees with the independent fixture RC4", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.uint8Array({ maxLength: 600 }),
      (key, data) => {
        const encrypted = rc4(key, data);
        assert.deepEqual(encrypted, fixtureRc4(key, data));
        assert.deepEqual(rc4(key, encrypted), data);
      },
    ),
  );
});

test("keys of 0 or more than 256 bytes are rejected", () => {
  assert.throws(() => rc4(new Uint8Array(0), new Uint8Array(4)), RangeError);
  assert.throws(() => rc4(new Uint8Array(257), new Uint8Array(4)), RangeError);
  assert.equal(rc4(new Uint8Array(256), new Uint8Array(4)).length, 4);
});
