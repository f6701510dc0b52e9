/**
 * Property tests: mutated carriers and icons (byte flips, huge header values, truncation, splices)
 * and random bytes behind real magic numbers. Triage must return a well-formed result for every
 * input, never throw, and never report an artefact larger than the input.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type TriageResult, triageBuffer } from "../../src/triage/index.js";
import fc from "../fc.js";
import { buildIcoDeadDrop, buildMainStorage, buildSuddenIconCarrier } from "../fixtures-gen/suddenicon.js";

const carrier = buildSuddenIconCarrier({ stubLength: 64, certificateLength: 128 }).bytes;
const icon = buildIcoDeadDrop({ url: "https://msstorageazure.com/window" }).bytes;
const storage = buildMainStorage();
const HEX64 = /^[0-9a-f]{64}$/;

/** A mutation: overwrite bytes, write a 32-bit value (often huge), truncate, or splice in bytes. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant("byte" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: fc.constant("u32" as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 0xffffffff, 0x7fffffff, 0x80000000, 0x40000000, 0xfffffff0), fc.nat()),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("splice" as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 32 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(base: Uint8Array, mutations: readonly Mutation[], headerBias: boolean): Uint8Array {
  let bytes = Uint8Array.from(base);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    // Most mutations land in the first 1 KB, where the headers are.
    const span = headerBias ? Math.min(bytes.length, 1024) : bytes.length;
    const at = m.at % span;
    switch (m.op) {
      case "byte":
        bytes[at] = m.value;
        break;
      case "u32":
        if (at + 4 <= bytes.length) new DataView(bytes.buffer).setUint32(at, m.value >>> 0, true);
        break;
      case "truncate":
        bytes = bytes.slice(0, m.at % (bytes.length + 1));
        break;
      case "splice":
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
        break;
    }
  }
  return bytes;
}

function checkWellFormed(input: Uint8Array, result: TriageResult): void {
  assert.equal(result.file.size, input.length);
  assert.match(result.file.sha256 ?? "", HEX64);
  if (result.error) {
    assert.match(result.error.code, /^TRIAGE0\d\d$/);
    assert.ok(result.error.message.length > 0);
  }
  for (const f of result.findings) {
    switch (f.kind) {
      case "carrier":
        assert.ok(f.marker.offset >= 0 && f.marker.offset < input.length);
        assert.ok(f.encryptedOffset + f.encryptedLength + f.paddingLength <= input.length);
        assert.equal(f.stage.size, f.encryptedLength);
        assert.match(f.stage.sha256, HEX64);
        for (const pe of f.embeddedPes) {
          assert.ok(pe.offset < f.stage.size);
          assert.equal(pe.truncated, pe.size > f.stage.size - pe.offset);
          assert.match(pe.sha256, HEX64);
        }
        break;
      case "ico-dead-drop":
        assert.ok(f.tailOffset < input.length);
        assert.ok(f.ciphertextLength < input.length);
        if (f.tagVerified !== true) assert.equal(f.url, null);
        break;
      case "main-storage":
        assert.equal(input.length, 56);
        break;
      default:
        assert.fail("unknown finding kind");
    }
  }
  JSON.stringify(result);
}

for (const [name, base] of [
  ["carrier", carrier],
  ["icon", icon],
  ["main storage", storage],
] as const) {
  test(`mutated ${name}s: always a well-formed result`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (mutations, bias) => {
          const input = apply(base, mutations, bias);
          checkWellFormed(input, await triageBuffer(input, "mutated"));
        },
      ),
      { numRuns: 400 },
    );
  });
}

test("random bytes behind real magic numbers", async () => {
  const magic = fc.constantFrom(
    Uint8Array.of(0x4d, 0x5a),
    Uint8Array.of(0, 0, 1, 0),
    Uint8Array.of(0, 0, 2, 0, 1, 0),
    Uint8Array.of(0x4d, 0x5a, ...new Array(58).fill(0), 0x40, 0, 0, 0, 0x50, 0x45, 0, 0),
  );
  await fc.assert(
    fc.asyncProperty(magic, fc.uint8Array({ maxLength: 2048 }), async (head, rest) => {
      const input = Uint8Array.from([...head, ...rest]);
      checkWellFormed(input, await triageBuffer(input, "random"));
    }),
    { numRuns: 500 },
  );
});

test("the mutations do reach the decoders (the property is not vacuous)", async () => {
  // Unmutated inputs decode, so failures above would come from the mutations, not from the baseline.
  assert.equal((await triageBuffer(carrier, "c")).findings[0]?.kind, "carrier");
  assert.equal((await triageBuffer(icon, "i")).findings[0]?.kind, "ico-dead-drop");
  // A tag flip in the base64 makes a non-verifying finding, a header flip an error.
  const flipped = Uint8Array.from(icon);
  flipped[icon.length - 40] = flipped[icon.length - 40] === 0x41 ? 0x42 : 0x41;
  const finding = (await triageBuffer(flipped, "i")).findings[0];
  assert.ok(finding?.kind === "ico-dead-drop" && finding.tagVerified === false);
});

test("pathological inputs finish quickly (linear scans)", async () => {
  const size = 4 * 1024 * 1024;
  const cases: [string, Uint8Array][] = [];
  // 4 MB of MZ headers all pointing at one PE-looking header: every candidate must be cheap.
  const mz = new Uint8Array(size);
  for (let i = 0; i < size; i += 2) mz.set([0x4d, 0x5a], i);
  cases.push(["MZMZ...", mz]);
  // A carrier whose whole tail is markers.
  const markers = new Uint8Array(size);
  markers.set([0x4d, 0x5a]);
  for (let i = 2; i + 4 <= size; i += 4) markers.set([0xfe, 0xed, 0xfa, 0xce], i);
  cases.push(["FEEDFACE x 1M", markers]);
  // An icon whose PNG is a million empty chunks.
  const png = new Uint8Array(size);
  png.set([0, 0, 1, 0, 1, 0]);
  new DataView(png.buffer).setUint32(6 + 8, size - 22, true);
  new DataView(png.buffer).setUint32(6 + 12, 22, true);
  png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 22);
  cases.push(["empty PNG chunks", png]);
  // Base64 tail of whitespace runs.
  const spaces = Buffer.concat([
    buildIcoDeadDrop({ url: "x" }).bytes.subarray(0, -1),
    Buffer.alloc(size, 0x20),
    Buffer.from("A"),
  ]);
  cases.push(["whitespace base64", spaces]);
  for (const [name, input] of cases) {
    const started = performance.now();
    const result = await triageBuffer(input, name);
    const elapsed = performance.now() - started;
    checkWellFormed(input, result);
    // Generous: a quadratic scan of 4 MB takes minutes; this only guards against that, not load spikes.
    assert.ok(elapsed < 10_000, `${name} took ${elapsed.toFixed(0)} ms`);
  }
});
