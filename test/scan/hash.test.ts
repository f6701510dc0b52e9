/** Hashes against known vectors, and the streaming path against the one-buffer path. */
import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { test } from "node:test";
import { hashFd } from "../../src/scan/hash.js";
import { hashBytes } from "../../src/scan/index.js";
import { tempDir } from "../helpers/tmp.js";

test("md5, sha1 and sha256 of the standard vectors", () => {
  assert.deepEqual(hashBytes(Buffer.alloc(0)), {
    md5: "d41d8cd98f00b204e9800998ecf8427e",
    sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  });
  assert.deepEqual(hashBytes(Buffer.from("abc")), {
    md5: "900150983cd24fb0d6963f7d28e17f72",
    sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
    sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  });
  // FIPS 180 "one million a".
  assert.deepEqual(hashBytes(Buffer.alloc(1_000_000, "a")), {
    md5: "7707d6ae4e027c70eea2a935c2296f21",
    sha1: "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
    sha256: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  });
});

test("streaming in chunks gives the same hashes as one buffer", () => {
  const tmp = tempDir("quarry-hash-");
  const data = Buffer.alloc(1_000_003);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const path = tmp.file("data.bin", data);
  const fd = openSync(path, "r");
  try {
    const r = hashFd(fd, Buffer.alloc(4099));
    assert.equal(r.bytes, data.length);
    assert.deepEqual(r.hashes, hashBytes(data));
  } finally {
    closeSync(fd);
  }
});
