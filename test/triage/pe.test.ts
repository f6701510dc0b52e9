import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePe } from "../../src/triage/pe.js";
import {
  attachCertificate,
  buildInnerDll,
  buildMinimalPe,
  buildWinCertificate,
  peChecksum,
} from "../fixtures-gen/suddenicon.js";

function parsed(bytes: Uint8Array, start = 0) {
  const result = parsePe(bytes, start);
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.image;
}

test("reads machine, timestamp, DLL bit, sections and size of a PE32+ DLL", () => {
  const pe = buildMinimalPe({ machine: "amd64", dll: true, timestamp: 0x63c4a2b5 });
  const image = parsed(pe);
  assert.equal(image.machine, 0x8664);
  assert.equal(image.machineName, "amd64");
  assert.equal(image.is64, true);
  assert.equal(image.isDll, true);
  assert.equal(image.timestamp, 0x63c4a2b5);
  assert.equal(image.timestampIso, "2023-01-16T01:04:53Z");
  assert.deepEqual(
    image.sections.map((s) => s.name),
    [".text", ".rdata"],
  );
  assert.equal(image.sizeFromHeaders, pe.length);
  assert.equal(image.truncated, false);
  assert.equal(image.certificateTable, null);
  assert.equal(image.dataDirectories.length, 16);
  assert.equal(image.checksum, peChecksum(pe));
});

test("reads a PE32 executable", () => {
  const image = parsed(buildMinimalPe({ machine: "i386", dll: false }));
  assert.equal(image.machineName, "i386");
  assert.equal(image.is64, false);
  assert.equal(image.isDll, false);
  assert.equal(image.magic, 0x10b);
});

test("data directory 4 is reported as a file offset and checked against the file", () => {
  const pe = attachCertificate(buildMinimalPe(), buildWinCertificate(512));
  const image = parsed(pe);
  assert.deepEqual(image.certificateTable, { offset: pe.length - 512, size: 512, withinFile: true });
  // The overlay is not part of the size from headers.
  assert.equal(image.sizeFromHeaders, pe.length - 512);
  // Point it past the end: still parses, but flagged.
  const moved = Uint8Array.from(pe);
  const dir = new DataView(moved.buffer).getUint32(0x3c, true) + 24 + 112 + 4 * 8;
  new DataView(moved.buffer).setUint32(dir, 0xfffffff0, true);
  assert.equal(parsed(moved).certificateTable?.withinFile, false);
});

test("an embedded PE is read at its own start, offsets relative to it", () => {
  const inner = buildInnerDll();
  const stage = new Uint8Array(100 + inner.length);
  stage.set(inner, 100);
  const image = parsed(stage, 100);
  assert.equal(image.start, 100);
  assert.equal(image.sizeFromHeaders, inner.length);
});

test("gigabyte section sizes in a small file are reported, not trusted", () => {
  const pe = buildMinimalPe();
  const dv = new DataView(pe.buffer);
  const sections = dv.getUint32(0x3c, true) + 24 + 240;
  dv.setUint32(sections + 40 + 16, 0xfffff000, true); // .rdata SizeOfRawData
  const image = parsed(pe);
  assert.equal(image.sizeFromHeaders, image.sections[1].rawOffset + 0xfffff000);
  assert.equal(image.truncated, true);
});

test("malformed headers give a reason, never an exception", () => {
  const pe = buildMinimalPe();
  const e_lfanew = new DataView(pe.buffer).getUint32(0x3c, true);
  const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ["empty", () => new Uint8Array(0), /truncated DOS header/],
    ["just MZ", () => Uint8Array.of(0x4d, 0x5a), /truncated DOS header/],
    ["no MZ", (b) => b.map((x, i) => (i === 0 ? 0 : x)), /no MZ/],
    ["e_lfanew huge", (b) => patch32(b, 0x3c, 0xffffff00), /e_lfanew .* outside/],
    ["e_lfanew to the last byte", (b) => patch32(b, 0x3c, b.length - 1), /e_lfanew .* outside/],
    ["no PE signature", (b) => patch32(b, e_lfanew, 0x12345678), /no PE/],
    ["bad magic", (b) => patch16(b, e_lfanew + 24, 0x107), /magic/],
    ["optional header beyond the file", (b) => patch16(b, e_lfanew + 20, 0xffff), /optional header/],
    ["optional header too small", (b) => patch16(b, e_lfanew + 20, 16), /too small/],
    ["65535 sections", (b) => patch16(b, e_lfanew + 6, 0xffff), /section table/],
    ["truncated inside the section table", (b) => b.subarray(0, e_lfanew + 24 + 240 + 50), /section table/],
  ];
  for (const [name, mutate, reason] of cases) {
    const result = parsePe(mutate(Uint8Array.from(pe)));
    assert.equal(result.ok, false, name);
    if (!result.ok) assert.match(result.reason, reason, name);
  }
  // Out-of-range starts.
  assert.equal(parsePe(pe, -1).ok, false);
  assert.equal(parsePe(pe, pe.length + 5).ok, false);
});

test("every truncation of a valid PE is handled", () => {
  const pe = buildMinimalPe();
  for (let length = 0; length <= pe.length; length++) {
    const result = parsePe(pe.subarray(0, length));
    if (result.ok) assert.equal(result.image.truncated, result.image.sizeFromHeaders > length);
  }
});

function patch32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, value >>> 0, true);
  return bytes;
}

function patch16(bytes: Uint8Array, at: number, value: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint16(at, value, true);
  return bytes;
}
