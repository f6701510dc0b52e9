import assert from "node:assert/strict";
import { test } from "node:test";
import { type CarrierFinding, decodeCarrier } from "../../src/triage/carrier.js";
import {
  attachCertificate,
  buildInnerDll,
  buildMinimalPe,
  buildSuddenIconCarrier,
  buildWinCertificate,
  D3DCOMPILER_PDB,
  fixtureRc4,
  PUBLISHED_RC4_KEY,
  sha256,
} from "../fixtures-gen/suddenicon.js";

function finding(bytes: Uint8Array, key?: Uint8Array): CarrierFinding {
  const result = decodeCarrier(bytes, { key });
  assert.ok(result.finding, `no carrier finding (error: ${result.error})`);
  return result.finding;
}

test("decodes the SigFlip carrier: marker, lengths, padding, stage and inner DLL", () => {
  const carrier = buildSuddenIconCarrier();
  const result = decodeCarrier(carrier.bytes);
  assert.equal(result.error, undefined);
  const f = result.finding!;
  assert.equal(f.region, "certificate-table");
  assert.deepEqual(f.certificateTable, {
    offset: carrier.certificateTableOffset,
    size: carrier.certificateTableSize,
  });
  assert.deepEqual(f.marker, { offset: carrier.markerOffset, form: "doubled" });
  assert.equal(f.encryptedOffset, carrier.encryptedOffset);
  assert.equal(f.encryptedLength, carrier.encryptedLength);
  assert.equal(f.paddingLength, carrier.paddingLength);
  assert.equal(carrier.bytes.length % 8, 0, "SigFlip pads the file to a multiple of 8");
  assert.equal(f.keyHex, Buffer.from("3jB(2bsG#@c7").toString("hex"));
  assert.equal(f.stage.size, carrier.stage.length);
  assert.equal(f.stage.sha256, carrier.stageSha256);
  assert.equal(f.embeddedPes.length, 1);
  const [inner] = f.embeddedPes;
  assert.equal(inner.offset, carrier.innerDllOffset);
  assert.equal(inner.offset, 0x65d);
  assert.equal(inner.size, carrier.innerDll.length);
  assert.equal(inner.sha256, carrier.innerDllSha256);
  assert.equal(inner.machineName, "amd64");
  assert.equal(inner.isDll, true);
  assert.equal(inner.timestampIso, "2023-01-16T01:04:53Z");
  assert.equal(inner.truncated, false);
  assert.equal(f.d3dcompilerPdbName, true);
  assert.equal(f.carrierPe?.machineName, "amd64");
  assert.deepEqual(f.notes, []);
  // The payloads handed to --extract are exactly the stage and the DLL.
  assert.deepEqual(
    result.payloads.map((p) => [p.role, p.sha256, sha256(p.bytes)]),
    [
      ["stage", carrier.stageSha256, carrier.stageSha256],
      ["embedded-pe", carrier.innerDllSha256, carrier.innerDllSha256],
    ],
  );
});

test("the fixture carries the doubled marker and the ASCII PDB name (Elastic bdae76c9's strings)", () => {
  const bytes = Buffer.from(buildSuddenIconCarrier().bytes);
  assert.ok(bytes.indexOf(Buffer.from("feedfacefeedface", "hex")) > 0);
  const at = bytes.indexOf(Buffer.from(D3DCOMPILER_PDB, "latin1"));
  assert.ok(at > 0);
  assert.ok(!/[A-Za-z0-9_]/.test(String.fromCharCode(bytes[at - 1])), "fullword on the left");
  assert.equal(bytes[at + D3DCOMPILER_PDB.length], 0, "fullword on the right");
});

test("padding: every payload length gives 0..7 '0' bytes, all recovered", () => {
  for (let extra = 0; extra < 8; extra++) {
    const carrier = buildSuddenIconCarrier({ stubLength: 0x65d + extra });
    const f = finding(carrier.bytes);
    assert.equal(f.paddingLength, carrier.paddingLength);
    assert.equal(f.encryptedLength, carrier.encryptedLength);
    assert.equal(f.stage.sha256, carrier.stageSha256);
  }
});

test("accepts the single 4-byte marker", () => {
  const carrier = buildSuddenIconCarrier({ markerForm: "single" });
  const f = finding(carrier.bytes);
  assert.equal(f.marker.form, "single");
  assert.equal(f.encryptedOffset, carrier.markerOffset + 4);
  assert.equal(f.stage.sha256, carrier.stageSha256);
  assert.equal(f.embeddedPes[0].sha256, carrier.innerDllSha256);
});

test("--key: a payload under another key decodes with that key only", () => {
  const key = Buffer.from("another key!");
  const carrier = buildSuddenIconCarrier({ key });
  const right = finding(carrier.bytes, key);
  assert.equal(right.embeddedPes[0]?.sha256, carrier.innerDllSha256);
  const wrong = finding(carrier.bytes);
  assert.equal(wrong.embeddedPes.length, 0);
  assert.match(wrong.notes.join("\n"), /no PE in the decrypted stage/);
});

test("without a certificate table the whole file is searched", () => {
  const stage = Buffer.concat([Buffer.alloc(64, 0x90), buildInnerDll()]);
  const host = buildMinimalPe({ pdbName: D3DCOMPILER_PDB });
  const marker = Buffer.from("feedfacefeedface", "hex");
  const bytes = Buffer.concat([host, marker, fixtureRc4(PUBLISHED_RC4_KEY, stage)]);
  const f = finding(bytes);
  assert.equal(f.region, "file");
  assert.equal(f.certificateTable, null);
  assert.equal(f.marker.offset, host.length);
  assert.equal(f.stage.sha256, sha256(stage));
  assert.equal(f.embeddedPes[0].offset, 64);
  // A single marker is accepted too when there is no table.
  const single = Buffer.concat([host, marker.subarray(0, 4), fixtureRc4(PUBLISHED_RC4_KEY, stage)]);
  assert.equal(finding(single).marker.form, "single");
});

test("with a certificate table but no marker in it, only a doubled marker elsewhere counts", () => {
  const signed = attachCertificate(buildMinimalPe(), buildWinCertificate(256));
  const stage = buildInnerDll();
  const enc = fixtureRc4(PUBLISHED_RC4_KEY, stage);
  const single = Buffer.concat([signed, Buffer.from("feedface", "hex"), enc]);
  assert.equal(decodeCarrier(single).finding, null);
  const doubled = Buffer.concat([signed, Buffer.from("feedfacefeedface", "hex"), enc]);
  const f = finding(doubled);
  assert.equal(f.region, "file");
  assert.match(f.notes.join(), /outside the certificate table/);
  assert.equal(f.embeddedPes[0].sha256, sha256(stage));
});

test("a certificate table pointing outside the file is an error; the file is still searched", () => {
  const carrier = buildSuddenIconCarrier();
  const bytes = Uint8Array.from(carrier.bytes);
  const dv = new DataView(bytes.buffer);
  const dir = dv.getUint32(0x3c, true) + 24 + 112 + 4 * 8;
  dv.setUint32(dir + 4, 0x40000000, true); // 1 GiB table in a 6 KB file
  const result = decodeCarrier(bytes);
  assert.match(result.error ?? "", /certificate table .* lies outside the file/);
  assert.equal(result.finding?.region, "file");
  assert.equal(result.finding?.stage.sha256, carrier.stageSha256);
  // Without a marker anywhere: just the error.
  const plain = attachCertificate(buildMinimalPe(), buildWinCertificate(64));
  new DataView(plain.buffer).setUint32(dir, 0xfffffff8, true);
  const none = decodeCarrier(plain);
  assert.equal(none.finding, null);
  assert.match(none.error ?? "", /outside the file/);
});

test("corrupt headers are an error, and a marker is still found", () => {
  const carrier = buildSuddenIconCarrier();
  const bytes = Uint8Array.from(carrier.bytes);
  new DataView(bytes.buffer).setUint32(0x3c, 0x7fffffff, true);
  const result = decodeCarrier(bytes);
  assert.match(result.error ?? "", /corrupt PE headers: e_lfanew/);
  assert.equal(result.finding?.carrierPe, null);
  assert.equal(result.finding?.stage.sha256, carrier.stageSha256);
});

test("an embedded PE claiming gigabytes is reported truncated, hashed over what is present", () => {
  const inner = Uint8Array.from(buildInnerDll());
  const dv = new DataView(inner.buffer);
  const sections = dv.getUint32(0x3c, true) + 24 + 240;
  dv.setUint32(sections + 40 + 16, 0x7ffff000, true);
  const carrier = buildSuddenIconCarrier({ innerDll: inner });
  const f = finding(carrier.bytes);
  const [pe] = f.embeddedPes;
  assert.equal(pe.truncated, true);
  assert.ok(pe.size > 0x7ffff000);
  assert.equal(pe.sha256, sha256(inner));
  assert.match(f.notes.join(), /claims \d+ bytes but only \d+ are present/);
});

test("nothing after the marker, non-PE files and plain PEs", () => {
  const host = buildMinimalPe();
  const empty = finding(Buffer.concat([host, Buffer.from("feedfacefeedface", "hex")]));
  assert.equal(empty.encryptedLength, 0);
  assert.match(empty.notes.join(), /nothing follows the marker/);
  // A big-endian Mach-O starts with FE ED FA CE: not an MZ file, so not a carrier.
  assert.deepEqual(decodeCarrier(Buffer.from("feedface0000001200000000", "hex")), {
    finding: null,
    payloads: [],
  });
  assert.equal(decodeCarrier(host).finding, null);
  assert.equal(decodeCarrier(host).error, undefined);
});

test("a stage holding several PEs lists each, in order", () => {
  const a = buildInnerDll({ timestamp: 1 });
  const b = buildMinimalPe({ machine: "i386", dll: false, timestamp: 2 });
  const stage = Buffer.concat([Buffer.alloc(10), a, Buffer.from("MZ junk"), b]);
  const carrier = buildSuddenIconCarrier({ innerDll: stage, stubLength: 16 });
  const f = finding(carrier.bytes);
  assert.deepEqual(
    f.embeddedPes.map((p) => [p.offset, p.machineName, p.isDll, p.sha256]),
    [
      [16 + 10, "amd64", true, sha256(a)],
      [16 + 10 + a.length + 7, "i386", false, sha256(b)],
    ],
  );
});
