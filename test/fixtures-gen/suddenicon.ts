/**
 * Generators of SUDDENICON (3CX) look-alike files for tests: built by our own code at test time, so no
 * malware is ever committed. Nothing generated here runs or does harm: the PEs' only code is
 * `mov eax, 1; ret`, the "stub" is inert filler, and the strings are the published indicators.
 * The layouts follow /work/shared/content/FACTS.md (§3.1 carrier / SigFlip, §4 ICO, §6 .main_storage).
 * This module deliberately does not import src/: RC4, PE writing, PNG and AES-GCM use independent code
 * (node:crypto for AES), so a bug in the decoders cannot cancel out against the same bug here.
 *
 * Entry points (all synchronous, all deterministic for the same options):
 *
 * - `buildSuddenIconCarrier(options?)` -> `SuddenIconCarrier`: the d3dcompiler_47.dll look-alike. A
 *   minimal amd64 DLL whose CodeView debug record names `D3DCompiler_47.pdb` (ASCII, fullword), with a
 *   fake PKCS#7 certificate table holding `FE ED FA CE FE ED FA CE` + RC4(key, stub + inner DLL) + '0'
 *   padding (the SigFlip layout). Matches Elastic's `Windows_Trojan_SuddenIcon_bdae76c9`. The result
 *   carries the expected answers: marker offset, encrypted length, padding, stage and inner-DLL sha256.
 * - `buildInnerDll(options?)`: the inner "ICONIC loader" look-alike, a minimal amd64 DLL whose .rdata
 *   holds `ICONIC_LOADER_STRINGS` (the IconStorages URL in UTF-16LE, `__tutma`, `__tutmc`, `%s: %s`,
 *   `%s=%s` in ASCII, each NUL-delimited, so Elastic's `Windows_Trojan_SuddenIcon_99487621` matches it).
 * - `buildMinimalPe(options?)`: any minimal valid PE32/PE32+ (machine, DLL bit, timestamp, .rdata bytes,
 *   optional CodeView PDB name), checksum set. `attachCertificate(pe, cert)` appends a certificate
 *   table (data directory 4); `buildWinCertificate(length)` makes a fake WIN_CERTIFICATE (PKCS#7 type).
 *   `sigFlipInject(pe, payload, options?)` writes a SigFlip blob into an existing certificate table.
 * - `buildIcoDeadDrop(options)` -> `IcoDeadDrop`: an ICO with one PNG and the `$`-prefixed base64 tail
 *   [u32 prefix 0x29][GCM tag][AES-256-GCM(UTF-16LE URL + NUL)] with the published key and nonce
 *   (or others). Matches Volexity's `apt_ico_uta0040_b64_c2` (< 120 KB, `IEND` CRC then `$` + base64).
 *   `encryptIcoUrl(url, options?)` makes just the base64; `buildPng(w, h)` a valid RGBA PNG; `buildIco(png,
 *   tail?)` an ICO around any PNG with arbitrary appended bytes.
 * - `buildMainStorage(options?)`: a 56-byte macOS `.main_storage` (UUID text, 12 zero bytes, u64 LE
 *   Unix time, all XOR 0x7A).
 * - Facts as constants: `PUBLISHED_RC4_KEY`, `PUBLISHED_ICO_KEY`, `PUBLISHED_ICO_NONCE`,
 *   `ICONIC_LOADER_STRINGS`, `D3DCOMPILER_PDB`; helpers `fixtureRc4`, `crc32`, `sha256`.
 */
import { createCipheriv, createHash } from "node:crypto";
import { deflateSync } from "node:zlib";

// ---------------------------------------------------------------------------------------------------
// Facts (FACTS.md), repeated here on purpose so fixtures do not depend on the code under test.

/** RC4 key of the d3dcompiler_47.dll payload: ASCII `3jB(2bsG#@c7`. */
export const PUBLISHED_RC4_KEY: Uint8Array = Uint8Array.from(Buffer.from("3jB(2bsG#@c7", "latin1"));
/** AES-256-GCM key of the IconStorages icons (Volexity). */
export const PUBLISHED_ICO_KEY: Uint8Array = Uint8Array.from(
  Buffer.from("21a1ace1e663ba45864df457b209181ebd90101b4a512840387cd210e58fa3f1", "hex"),
);
/** The icons' fixed 12-byte GCM nonce. */
export const PUBLISHED_ICO_NONCE: Uint8Array = Uint8Array.from(
  Buffer.from("3b8a08ed0f9e08ca572109ef", "hex"),
);
export const D3DCOMPILER_PDB = "D3DCompiler_47.pdb";

/** Strings of the inner DLL that Elastic's rule 99487621 counts (`5 of ($str*)`). */
export const ICONIC_LOADER_STRINGS = {
  /** Stored UTF-16LE. */
  iconUrlWide: "https://raw.githubusercontent.com/IconStorages/images/main/icon%d.ico",
  /** Stored ASCII. */
  ascii: ["__tutma", "__tutmc", "%s: %s", "%s=%s"] as readonly string[],
} as const;

const DOUBLED_MARKER = [0xfe, 0xed, 0xfa, 0xce, 0xfe, 0xed, 0xfa, 0xce];

// ---------------------------------------------------------------------------------------------------
// Small helpers

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** RC4, written independently of src/triage/rc4.ts. */
export function fixtureRc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i] + key[i % key.length]) % 256;
    [s[i], s[j]] = [s[j], s[i]];
  }
  const out = new Uint8Array(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) % 256;
    j = (j + s[i]) % 256;
    [s[i], s[j]] = [s[j], s[i]];
    out[n] = data[n] ^ s[(s[i] + s[j]) % 256];
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, as PNG uses). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Deterministic filler bytes (xorshift32), never containing 0xFE (so never a FEEDFACE) nor `MZ`. */
function filler(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    let b = x & 0xff;
    if (b === 0xfe) b = 0x7e;
    if (b === 0x5a && i > 0 && out[i - 1] === 0x4d) b = 0x5b;
    out[i] = b;
  }
  return out;
}

function align(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length))));
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---------------------------------------------------------------------------------------------------
// PE

export interface MinimalPeOptions {
  /** Default `amd64` (PE32+); `i386` gives PE32. */
  readonly machine?: "amd64" | "i386";
  /** Sets IMAGE_FILE_DLL. Default true. */
  readonly dll?: boolean;
  /** COFF TimeDateStamp. Default 0x63f6_1a00 (2023-02-22). */
  readonly timestamp?: number;
  /** Extra bytes placed at the start of `.rdata`. */
  readonly rdata?: Uint8Array;
  /** When set, a CodeView (RSDS) debug record naming this PDB, with debug directory 6 pointing at it. */
  readonly pdbName?: string;
}

const FILE_ALIGNMENT = 0x200;
const SECTION_ALIGNMENT = 0x1000;
const NT_OFFSET = 0x80;
const DOS_STUB_TEXT = "This program cannot be run in DOS mode.\r\r\n$";

/** Offset of the optional header's CheckSum and of data directory `index`, for a built PE. */
function peLayout(pe: Uint8Array): { checksumAt: number; directoryAt: (index: number) => number } {
  const dv = view(pe);
  const nt = dv.getUint32(0x3c, true);
  const optional = nt + 24;
  const is64 = dv.getUint16(optional, true) === 0x20b;
  return {
    checksumAt: optional + 64,
    directoryAt: (index) => optional + (is64 ? 112 : 96) + index * 8,
  };
}

/** The PE checksum (16-bit one's-complement-style sum with carries folded, plus the file length). */
export function peChecksum(pe: Uint8Array): number {
  const { checksumAt } = peLayout(pe);
  let sum = 0;
  for (let i = 0; i < pe.length; i += 2) {
    if (i === checksumAt || i === checksumAt + 2) continue;
    const word = pe[i] | ((i + 1 < pe.length ? pe[i + 1] : 0) << 8);
    sum += word;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + pe.length) >>> 0;
}

function setChecksum(pe: Uint8Array): void {
  view(pe).setUint32(peLayout(pe).checksumAt, 0, true);
  view(pe).setUint32(peLayout(pe).checksumAt, peChecksum(pe), true);
}

/**
 * A minimal valid PE: DOS header and stub, NT headers, `.text` (`mov eax, 1; ret`) and `.rdata`,
 * file alignment 0x200, section alignment 0x1000, correct SizeOfImage/SizeOfHeaders/CheckSum. Its
 * size from headers equals its length (no overlay).
 */
export function buildMinimalPe(options: MinimalPeOptions = {}): Uint8Array {
  const is64 = (options.machine ?? "amd64") === "amd64";
  const dll = options.dll ?? true;
  const timestamp = options.timestamp ?? 0x63f61a00;
  const optionalSize = is64 ? 240 : 224;
  const headersEnd = NT_OFFSET + 4 + 20 + optionalSize + 2 * 40;
  const sizeOfHeaders = align(headersEnd, FILE_ALIGNMENT);

  const text = Uint8Array.of(0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3); // mov eax, 1; ret
  const textRva = SECTION_ALIGNMENT;
  const textRaw = sizeOfHeaders;
  const textRawSize = align(text.length, FILE_ALIGNMENT);
  const rdataRva = textRva + align(text.length, SECTION_ALIGNMENT);
  const rdataRaw = textRaw + textRawSize;

  // .rdata: caller bytes, then (optionally) the debug directory entry and the CodeView record.
  const rdataParts: Uint8Array[] = [options.rdata ?? new Uint8Array(0)];
  let debugDirectory: { rva: number; size: number } | null = null;
  if (options.pdbName !== undefined) {
    const userLength = align(rdataParts[0].length, 8);
    rdataParts[0] = concat([rdataParts[0], new Uint8Array(userLength - rdataParts[0].length)]);
    const codeView = concat([
      Buffer.from("RSDS", "latin1"),
      filler(16, 0x3c3c3c3c), // GUID
      Uint8Array.of(1, 0, 0, 0), // age
      Buffer.from(`${options.pdbName}\0`, "latin1"),
    ]);
    const entry = new Uint8Array(28);
    const dv = view(entry);
    const codeViewOffset = userLength + 28;
    dv.setUint32(4, timestamp, true);
    dv.setUint32(12, 2, true); // IMAGE_DEBUG_TYPE_CODEVIEW
    dv.setUint32(16, codeView.length, true);
    dv.setUint32(20, rdataRva + codeViewOffset, true);
    dv.setUint32(24, rdataRaw + codeViewOffset, true);
    rdataParts.push(entry, codeView);
    debugDirectory = { rva: rdataRva + userLength, size: 28 };
  }
  const rdata = concat(rdataParts);
  const rdataRawSize = align(Math.max(rdata.length, 1), FILE_ALIGNMENT);
  const fileSize = rdataRaw + rdataRawSize;
  const sizeOfImage = rdataRva + align(Math.max(rdata.length, 1), SECTION_ALIGNMENT);

  const pe = new Uint8Array(fileSize);
  const dv = view(pe);
  pe[0] = 0x4d;
  pe[1] = 0x5a;
  dv.setUint16(0x02, 0x90, true); // bytes on last page
  dv.setUint16(0x04, 3, true); // pages
  dv.setUint16(0x08, 4, true); // header paragraphs
  dv.setUint16(0x0c, 0xffff, true);
  dv.setUint16(0x10, 0xb8, true);
  dv.setUint16(0x18, 0x40, true);
  dv.setUint32(0x3c, NT_OFFSET, true);
  pe.set(
    Uint8Array.of(0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09, 0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21),
    0x40,
  );
  pe.set(Buffer.from(DOS_STUB_TEXT, "latin1"), 0x4e);

  pe.set(Buffer.from("PE\0\0", "latin1"), NT_OFFSET);
  const coff = NT_OFFSET + 4;
  dv.setUint16(coff, is64 ? 0x8664 : 0x014c, true);
  dv.setUint16(coff + 2, 2, true);
  dv.setUint32(coff + 4, timestamp, true);
  dv.setUint16(coff + 16, optionalSize, true);
  const characteristics = 0x0002 | (is64 ? 0x0020 : 0x0100) | (dll ? 0x2000 : 0);
  dv.setUint16(coff + 18, characteristics, true);

  const opt = coff + 20;
  dv.setUint16(opt, is64 ? 0x20b : 0x10b, true);
  pe[opt + 2] = 14; // linker 14.x
  dv.setUint32(opt + 4, textRawSize, true);
  dv.setUint32(opt + 8, rdataRawSize, true);
  dv.setUint32(opt + 16, textRva, true); // entry point
  dv.setUint32(opt + 20, textRva, true);
  if (is64) {
    dv.setBigUint64(opt + 24, dll ? 0x180000000n : 0x140000000n, true);
  } else {
    dv.setUint32(opt + 24, rdataRva, true);
    dv.setUint32(opt + 28, dll ? 0x10000000 : 0x400000, true);
  }
  dv.setUint32(opt + 32, SECTION_ALIGNMENT, true);
  dv.setUint32(opt + 36, FILE_ALIGNMENT, true);
  dv.setUint16(opt + 40, 6, true);
  dv.setUint16(opt + 48, 6, true);
  dv.setUint32(opt + 56, sizeOfImage, true);
  dv.setUint32(opt + 60, sizeOfHeaders, true);
  dv.setUint16(opt + 68, 3, true); // console subsystem
  dv.setUint16(opt + 70, is64 ? 0x0160 : 0x0140, true);
  if (is64) {
    dv.setBigUint64(opt + 72, 0x100000n, true);
    dv.setBigUint64(opt + 80, 0x1000n, true);
    dv.setBigUint64(opt + 88, 0x100000n, true);
    dv.setBigUint64(opt + 96, 0x1000n, true);
    dv.setUint32(opt + 108, 16, true);
  } else {
    dv.setUint32(opt + 72, 0x100000, true);
    dv.setUint32(opt + 76, 0x1000, true);
    dv.setUint32(opt + 80, 0x100000, true);
    dv.setUint32(opt + 84, 0x1000, true);
    dv.setUint32(opt + 92, 16, true);
  }
  const directories = opt + (is64 ? 112 : 96);
  if (debugDirectory) {
    dv.setUint32(directories + 6 * 8, debugDirectory.rva, true);
    dv.setUint32(directories + 6 * 8 + 4, debugDirectory.size, true);
  }

  const sections = opt + optionalSize;
  writeSection(pe, sections, ".text", text.length, textRva, textRawSize, textRaw, 0x60000020);
  writeSection(
    pe,
    sections + 40,
    ".rdata",
    Math.max(rdata.length, 1),
    rdataRva,
    rdataRawSize,
    rdataRaw,
    0x40000040,
  );
  pe.set(text, textRaw);
  pe.set(rdata, rdataRaw);
  setChecksum(pe);
  return pe;
}

function writeSection(
  pe: Uint8Array,
  at: number,
  name: string,
  virtualSize: number,
  rva: number,
  rawSize: number,
  rawOffset: number,
  characteristics: number,
): void {
  const dv = view(pe);
  pe.set(Buffer.from(name, "latin1"), at);
  dv.setUint32(at + 8, virtualSize, true);
  dv.setUint32(at + 12, rva, true);
  dv.setUint32(at + 16, rawSize, true);
  dv.setUint32(at + 20, rawOffset, true);
  dv.setUint32(at + 36, characteristics, true);
}

/**
 * A fake WIN_CERTIFICATE `{dwLength, wRevision 0x0200, wCertificateType 2 (PKCS_SIGNED_DATA)}` with a
 * DER-shaped body (SEQUENCE { OID signedData, [0] OCTET STRING filler }). Not a real signature.
 * `length` is rounded up to a multiple of 8 so dwLength equals the table size.
 */
export function buildWinCertificate(length = 1024): Uint8Array {
  const total = align(Math.max(length, 32), 8);
  const cert = new Uint8Array(total);
  const dv = view(cert);
  dv.setUint32(0, total, true);
  dv.setUint16(4, 0x0200, true);
  dv.setUint16(6, 0x0002, true);
  const der = total - 8;
  cert[8] = 0x30;
  cert[9] = 0x82;
  dv.setUint16(10, der - 4, false);
  cert.set([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02], 12); // 1.2.840.113549.1.7.2
  cert[23] = 0xa0;
  cert[24] = 0x82;
  dv.setUint16(25, der - 19, false);
  cert[27] = 0x04;
  cert[28] = 0x82;
  dv.setUint16(29, der - 23, false);
  cert.set(filler(total - 31, 0x5eed), 31);
  return cert;
}

/** Appends `certificate` at the next 8-byte boundary and points data directory 4 at it. */
export function attachCertificate(pe: Uint8Array, certificate: Uint8Array): Uint8Array {
  const offset = align(pe.length, 8);
  const out = new Uint8Array(offset + certificate.length);
  out.set(pe);
  out.set(certificate, offset);
  const at = peLayout(out).directoryAt(4);
  view(out).setUint32(at, offset, true);
  view(out).setUint32(at + 4, certificate.length, true);
  setChecksum(out);
  return out;
}

export interface SigFlipOptions {
  /** Default the published 3CX key. */
  readonly key?: Uint8Array;
  /** `doubled` (SigFlip, default) or `single` (a 4-byte marker). */
  readonly markerForm?: "doubled" | "single";
}

export interface SigFlipResult {
  readonly bytes: Uint8Array;
  readonly certificateTableOffset: number;
  /** Data directory 4 size after injection. */
  readonly certificateTableSize: number;
  readonly markerOffset: number;
  readonly encryptedOffset: number;
  readonly encryptedLength: number;
  readonly paddingLength: number;
}

/**
 * SigFlip's injection (FACTS.md §3.1): blob = marker + RC4(key, payload) + '0' x n so that file size +
 * blob size is a multiple of 8, written at certTable + dwLength; dwLength and data directory 4 grow by
 * the blob size; CheckSum recomputed. The certificate table must be the last thing in the file.
 */
export function sigFlipInject(
  pe: Uint8Array,
  payload: Uint8Array,
  options: SigFlipOptions = {},
): SigFlipResult {
  const key = options.key ?? PUBLISHED_RC4_KEY;
  const marker = options.markerForm === "single" ? DOUBLED_MARKER.slice(0, 4) : DOUBLED_MARKER;
  const directory = peLayout(pe).directoryAt(4);
  const dv = view(pe);
  const tableOffset = dv.getUint32(directory, true);
  const tableSize = dv.getUint32(directory + 4, true);
  if (tableSize === 0) throw new Error("sigFlipInject: the PE has no certificate table");
  const dwLength = dv.getUint32(tableOffset, true);
  const blobAt = tableOffset + dwLength;
  if (blobAt !== pe.length || tableOffset + tableSize !== pe.length) {
    throw new Error("sigFlipInject: the certificate table must end the file");
  }
  let blobLength = marker.length + payload.length;
  let paddingLength = 0;
  while ((pe.length + blobLength + paddingLength) % 8 !== 0) paddingLength++;
  blobLength += paddingLength;
  const out = new Uint8Array(pe.length + blobLength);
  out.set(pe);
  out.set(marker, blobAt);
  out.set(fixtureRc4(key, payload), blobAt + marker.length);
  out.fill(0x30, blobAt + marker.length + payload.length);
  const ov = view(out);
  ov.setUint32(tableOffset, dwLength + blobLength, true);
  ov.setUint32(directory + 4, tableSize + blobLength, true);
  setChecksum(out);
  return {
    bytes: out,
    certificateTableOffset: tableOffset,
    certificateTableSize: tableSize + blobLength,
    markerOffset: blobAt,
    encryptedOffset: blobAt + marker.length,
    encryptedLength: payload.length,
    paddingLength,
  };
}

// ---------------------------------------------------------------------------------------------------
// The carrier and its payload

/** Inert bytes standing in for the reflective-loader stub (no `MZ`, no FEEDFACE). */
export function buildLoaderStub(length = 0x65d): Uint8Array {
  return filler(length, 0x10adface);
}

export interface InnerDllOptions {
  readonly timestamp?: number;
  /** Include `ICONIC_LOADER_STRINGS` in .rdata. Default true. */
  readonly iconicStrings?: boolean;
}

/** The inner "ICONIC loader" look-alike: amd64 DLL, strings only. */
export function buildInnerDll(options: InnerDllOptions = {}): Uint8Array {
  const strings =
    options.iconicStrings === false
      ? []
      : [
          Buffer.from(`\0\0${ICONIC_LOADER_STRINGS.iconUrlWide}\0`, "utf16le"),
          ...ICONIC_LOADER_STRINGS.ascii.map((s) => Buffer.from(`\0${s}\0`, "latin1")),
        ];
  return buildMinimalPe({
    machine: "amd64",
    dll: true,
    timestamp: options.timestamp ?? 0x63c4a2b5, // 2023-01-16
    rdata: concat(strings),
  });
}

export interface SuddenIconCarrierOptions {
  /** RC4 key. Default the published key. */
  readonly key?: Uint8Array;
  /** Stub length before the inner DLL. Default 0x65D (the offset one analysis reported). */
  readonly stubLength?: number;
  /** The DLL inside the stage. Default `buildInnerDll()`. */
  readonly innerDll?: Uint8Array;
  readonly markerForm?: "doubled" | "single";
  /** Fake PKCS#7 table size before injection. Default 1024. */
  readonly certificateLength?: number;
  /** Carrier's own COFF timestamp. Default 0x5e8d6a10 (2020-04-08, any old date). */
  readonly timestamp?: number;
}

export interface SuddenIconCarrier extends SigFlipResult {
  /** The decrypted stage: stub followed by the inner DLL. */
  readonly stage: Uint8Array;
  readonly stageSha256: string;
  readonly innerDll: Uint8Array;
  readonly innerDllSha256: string;
  /** Offset of the inner DLL inside the stage (= stub length). */
  readonly innerDllOffset: number;
  readonly key: Uint8Array;
}

/** The d3dcompiler_47.dll look-alike with a SigFlip payload (see the module comment). */
export function buildSuddenIconCarrier(options: SuddenIconCarrierOptions = {}): SuddenIconCarrier {
  const key = options.key ?? PUBLISHED_RC4_KEY;
  const innerDll = options.innerDll ?? buildInnerDll();
  const stub = buildLoaderStub(options.stubLength ?? 0x65d);
  const stage = concat([stub, innerDll]);
  const host = buildMinimalPe({
    machine: "amd64",
    dll: true,
    timestamp: options.timestamp ?? 0x5e8d6a10,
    pdbName: D3DCOMPILER_PDB,
  });
  const signed = attachCertificate(host, buildWinCertificate(options.certificateLength ?? 1024));
  const injected = sigFlipInject(signed, stage, { key, markerForm: options.markerForm });
  return {
    ...injected,
    stage,
    stageSha256: sha256(stage),
    innerDll,
    innerDllSha256: sha256(innerDll),
    innerDllOffset: stub.length,
    key,
  };
}

// ---------------------------------------------------------------------------------------------------
// PNG, ICO

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  view(head).setUint32(0, data.length, false);
  head.set(Buffer.from(type, "latin1"), 4);
  const crc = new Uint8Array(4);
  view(crc).setUint32(0, crc32(concat([head.subarray(4), data])), false);
  return concat([head, data, crc]);
}

/** A valid RGBA PNG of `width` x `height` with a deterministic pattern. */
export function buildPng(width = 16, height = 16): Uint8Array {
  const ihdr = new Uint8Array(13);
  view(ihdr).setUint32(0, width, false);
  view(ihdr).setUint32(4, height, false);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = new Uint8Array(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 4);
    for (let x = 0; x < width; x++) {
      rows.set([(x * 16) & 0xff, (y * 16) & 0xff, 0x80, 0xff], row + 1 + x * 4);
    }
  }
  return concat([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}

/** An ICO (ICONDIR + one ICONDIRENTRY at offset 22) around `png`, followed by `tail` bytes the directory does not cover. */
export function buildIco(
  png: Uint8Array,
  tail: Uint8Array = new Uint8Array(0),
  width = 16,
  height = 16,
): Uint8Array {
  const header = new Uint8Array(22);
  const dv = view(header);
  dv.setUint16(2, 1, true);
  dv.setUint16(4, 1, true);
  header[6] = width >= 256 ? 0 : width;
  header[7] = height >= 256 ? 0 : height;
  dv.setUint16(10, 1, true);
  dv.setUint16(12, 32, true);
  dv.setUint32(14, png.length, true);
  dv.setUint32(18, 22, true);
  return concat([header, png, tail]);
}

export interface IcoEncryptOptions {
  readonly key?: Uint8Array;
  readonly nonce?: Uint8Array;
  /** The u32 LE before the tag; 0x29 in every real icon. */
  readonly prefix?: number;
}

export interface EncryptedIcoUrl {
  readonly base64: string;
  readonly decoded: Uint8Array;
  readonly tag: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** base64([u32 LE prefix][GCM tag][AES-256-GCM(key, nonce, UTF-16LE url + NUL)]), no AAD. */
export function encryptIcoUrl(url: string, options: IcoEncryptOptions = {}): EncryptedIcoUrl {
  const cipher = createCipheriv(
    "aes-256-gcm",
    options.key ?? PUBLISHED_ICO_KEY,
    options.nonce ?? PUBLISHED_ICO_NONCE,
  );
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(`${url}\0`, "utf16le")), cipher.final()]);
  const tag = cipher.getAuthTag();
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(options.prefix ?? 0x29);
  const decoded = Buffer.concat([prefix, tag, ciphertext]);
  return {
    base64: decoded.toString("base64"),
    decoded: Uint8Array.from(decoded),
    tag: Uint8Array.from(tag),
    ciphertext: Uint8Array.from(ciphertext),
  };
}

export interface IcoDeadDropOptions extends IcoEncryptOptions {
  readonly url: string;
  /** Default `buildPng(width, width)`. */
  readonly png?: Uint8Array;
  /** Default 16. */
  readonly width?: number;
}

export interface IcoDeadDrop {
  readonly bytes: Uint8Array;
  readonly url: string;
  readonly base64: string;
  readonly pngOffset: number;
  readonly pngLength: number;
  /** Offset of the `$`. */
  readonly tailOffset: number;
}

/** An IconStorages-style icon: ICO + PNG + `$` + base64 of the encrypted URL. */
export function buildIcoDeadDrop(options: IcoDeadDropOptions): IcoDeadDrop {
  const width = options.width ?? 16;
  const png = options.png ?? buildPng(width, width);
  const { base64 } = encryptIcoUrl(options.url, options);
  const bytes = buildIco(png, Buffer.from(`$${base64}`, "latin1"), width, width);
  return {
    bytes,
    url: options.url,
    base64,
    pngOffset: 22,
    pngLength: png.length,
    tailOffset: 22 + png.length,
  };
}

// ---------------------------------------------------------------------------------------------------
// macOS .main_storage

export interface MainStorageOptions {
  /** Default the example from Wardle's book. */
  readonly uuid?: string;
  /** Unix seconds. Default 1687451263 (2023-06-22T16:27:43Z). */
  readonly timestamp?: bigint | number;
}

/** 56 bytes: UUID text (36), 12 zero bytes, u64 LE time; every byte XOR 0x7A. */
export function buildMainStorage(options: MainStorageOptions = {}): Uint8Array {
  const plain = new Uint8Array(56);
  plain.set(Buffer.from(options.uuid ?? "fcd5e94a-aa69-393f-53e4-5e1057a616f1", "latin1").subarray(0, 36));
  view(plain).setBigUint64(48, BigInt(options.timestamp ?? 1687451263), true);
  return plain.map((b) => b ^ 0x7a);
}
