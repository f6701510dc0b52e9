/**
 * The bundled 3CX YARA rules against generated look-alikes (test/fixtures-gen) and benign files: each rule
 * fires on what it describes and on nothing else.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import {
  buildIco,
  buildIcoDeadDrop,
  buildInnerDll,
  buildMainStorage,
  buildMinimalPe,
  buildPng,
  buildSuddenIconCarrier,
} from "../fixtures-gen/suddenicon.js";
import { compileForTest, packRules } from "./helpers.js";

const rules = compileForTest([packRules]);

test("the pack's rules compile with no error and no warning", () => {
  assert.deepEqual(rules.set.errors, []);
  assert.deepEqual(rules.set.warnings, []);
  assert.equal(rules.set.files.length, 1);
});

test("the carrier with the doubled marker matches both carrier rules", () => {
  const carrier = buildSuddenIconCarrier();
  assert.deepEqual(rules.ruleNames(carrier.bytes), [
    "Quarry_3CX_SuddenIcon_Carrier_DoubledMarker",
    "Quarry_3CX_SuddenIcon_Carrier_MarkerInCertificateTable",
  ]);
});

test("the carrier with a single marker matches the certificate-table rule only", () => {
  const carrier = buildSuddenIconCarrier({ markerForm: "single" });
  assert.deepEqual(rules.ruleNames(carrier.bytes), [
    "Quarry_3CX_SuddenIcon_Carrier_MarkerInCertificateTable",
  ]);
});

test("a PE naming D3DCompiler_47.pdb without a marker, and a marker outside the certificate table, do not match", () => {
  const clean = buildMinimalPe({ machine: "amd64", dll: true, pdbName: "D3DCompiler_47.pdb" });
  assert.deepEqual(rules.ruleNames(clean), []);
  // A single FEEDFACE in .rdata (not in a certificate table) is not the carrier layout.
  const rdata = Uint8Array.of(0xfe, 0xed, 0xfa, 0xce, 0, 0, 0, 0);
  const other = buildMinimalPe({ machine: "amd64", dll: true, pdbName: "D3DCompiler_47.pdb", rdata });
  assert.deepEqual(rules.ruleNames(other), []);
});

test("the inner ICONIC loader DLL matches; the same DLL without its strings does not", () => {
  assert.deepEqual(rules.ruleNames(buildInnerDll()), ["Quarry_3CX_IconicLoader_Strings"]);
  assert.deepEqual(rules.ruleNames(buildInnerDll({ iconicStrings: false })), []);
});

test("the decrypted stage (stub + DLL, no MZ at 0) matches through the UTF-16 URL", () => {
  const carrier = buildSuddenIconCarrier();
  assert.ok(rules.ruleNames(carrier.stage).includes("Quarry_3CX_IconicLoader_Strings"));
});

test("the IconStorages URL and cookie names in ASCII text (a report, an IOC list) do not match", () => {
  const text = Buffer.from(
    "type,value\nurl,https://raw.githubusercontent.com/IconStorages/images/main/icon%d.ico\ncookie,__tutma\ncookie,__tutmc\n%s: %s %s=%s\n",
  );
  assert.deepEqual(rules.ruleNames(text), []);
});

test("an ICO dead drop with the published key matches both ICO rules; another key only the layout rule", () => {
  const published = buildIcoDeadDrop({ url: "https://msstorageazure.com/window" });
  assert.deepEqual(rules.ruleNames(published.bytes), [
    "Quarry_3CX_IconStorages_Ico_DeadDrop",
    "Quarry_3CX_IconStorages_Ico_PublishedKey",
  ]);
  const otherKey = buildIcoDeadDrop({ url: "https://example.org/x", key: new Uint8Array(32).fill(7) });
  assert.deepEqual(rules.ruleNames(otherKey.bytes), ["Quarry_3CX_IconStorages_Ico_DeadDrop"]);
});

test("clean icons, icons with other trailing bytes, and truncated icons do not match", () => {
  const png = buildPng(32, 32);
  assert.deepEqual(rules.ruleNames(buildIco(png)), []);
  assert.deepEqual(rules.ruleNames(buildIco(png, Buffer.from("\n"))), []);
  // A '$' tail that is not base64 to the end of the file.
  assert.deepEqual(rules.ruleNames(buildIco(png, Buffer.from("$KQAAA not base64 !!! ~~~ ~~~ ~~~ ~~~"))), []);
  const drop = buildIcoDeadDrop({ url: "https://msstorageazure.com/window" }).bytes;
  assert.deepEqual(rules.ruleNames(drop.subarray(0, 30)), []);
});

test(".main_storage matches; random 56-byte files and a longer file do not", () => {
  assert.deepEqual(rules.ruleNames(buildMainStorage()), ["Quarry_3CX_MacOS_MainStorage"]);
  assert.deepEqual(rules.ruleNames(buildMainStorage({ uuid: "00000000-1111-2222-3333-ABCDEFabcdef" })), [
    "Quarry_3CX_MacOS_MainStorage",
  ]);
  for (let i = 0; i < 20; i++) assert.deepEqual(rules.ruleNames(randomBytes(56)), []);
  assert.deepEqual(rules.ruleNames(Buffer.concat([buildMainStorage(), Buffer.alloc(1)])), []);
});

test("stealer strings in a PE match; the same strings outside a PE do not", () => {
  const strings = [
    Buffer.from("\\3CXDesktopApp\\config.json\0", "utf16le"),
    Buffer.from("SELECT url, title FROM urls ORDER BY id DESC LIMIT 500\0"),
    Buffer.from("SELECT url, title FROM moz_places ORDER BY id DESC LIMIT 500\0"),
  ];
  const pe = buildMinimalPe({ machine: "amd64", rdata: Buffer.concat(strings) });
  assert.deepEqual(rules.ruleNames(pe), ["Quarry_3CX_IconicStealer_Strings"]);
  assert.deepEqual(rules.ruleNames(Buffer.concat(strings)), []);
});

test("libffmpeg.dylib XOR-0x7A strings in a Mach-O match; in plain text they do not", () => {
  const xor = (s: string) => Buffer.from(s, "latin1").map((b) => b ^ 0x7a);
  const body = Buffer.concat([
    xor(";3cx_auth_token_content=%s;__tutma="),
    Buffer.alloc(8),
    xor("/System/Library/CoreServices/SystemVersion.plist"),
  ]);
  const macho = Buffer.concat([Buffer.from("cffaedfe", "hex"), Buffer.alloc(60), body]);
  assert.deepEqual(rules.ruleNames(macho), ["Quarry_3CX_MacOS_Libffmpeg_XorStrings"]);
  const plain = Buffer.concat([
    Buffer.from("cffaedfe", "hex"),
    Buffer.from(";3cx_auth_token_content=%s;__tutma= /System/Library/CoreServices/SystemVersion.plist"),
  ]);
  assert.ok(!rules.ruleNames(plain).includes("Quarry_3CX_MacOS_Libffmpeg_XorStrings"));
});

test("random data and empty input match nothing", () => {
  for (let i = 0; i < 10; i++) assert.deepEqual(rules.ruleNames(randomBytes(64 * 1024)), []);
  assert.deepEqual(rules.ruleNames(new Uint8Array(0)), []);
});
