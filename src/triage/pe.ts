/**
 * A bounds-checked reader of PE (Portable Executable) headers: DOS header, NT signature, COFF file
 * header, optional header (PE32 and PE32+), data directories and the section table. It reads only
 * headers and never allocates from a size field: every size the file claims is reported as a
 * number and compared with the bytes actually present, so a 1 KB file claiming gigabytes of section
 * data yields `sizeFromHeaders` of gigabytes and `truncated: true`, nothing more.
 *
 * The image may start anywhere in the buffer (`start`), which is how an embedded PE inside a
 * decrypted stage is read; all offsets in the result are relative to that start, as PE offsets are.
 */
import { FormatError, fits, hex, requireRange, u16le, u32le, unixSecondsToIso } from "./bytes.js";

export interface PeSection {
  /** The 8-byte name with trailing NULs removed (latin1). */
  readonly name: string;
  readonly virtualSize: number;
  readonly virtualAddress: number;
  readonly rawSize: number;
  /** File offset of the section's raw data, relative to the image start. */
  readonly rawOffset: number;
  readonly characteristics: number;
}

export interface PeDataDirectory {
  /** An RVA, except for directory 4 (certificate table) where it is a file offset. */
  readonly address: number;
  readonly size: number;
}

export interface PeCertificateTable {
  /** File offset relative to the image start (data directory 4 holds a file offset, not an RVA). */
  readonly offset: number;
  readonly size: number;
  /** Whether `[offset, offset + size)` lies inside the bytes available after the image start. */
  readonly withinFile: boolean;
}

export interface PeImage {
  /** Where the image starts in the buffer that was parsed. */
  readonly start: number;
  /** `e_lfanew`: offset of the `PE\0\0` signature from the image start. */
  readonly ntHeaderOffset: number;
  readonly machine: number;
  /** `amd64`, `i386`, `arm64`, ... or `unknown(0x...)`. */
  readonly machineName: string;
  /** COFF `TimeDateStamp` (seconds since 1970, as stored; linkers with /Brepro store a hash). */
  readonly timestamp: number;
  readonly timestampIso: string;
  readonly characteristics: number;
  /** `IMAGE_FILE_DLL` (0x2000) is set. */
  readonly isDll: boolean;
  /** Optional-header magic: 0x10b (PE32) or 0x20b (PE32+). */
  readonly magic: number;
  readonly is64: boolean;
  readonly entryPoint: number;
  readonly sizeOfImage: number;
  readonly sizeOfHeaders: number;
  readonly checksum: number;
  readonly sections: readonly PeSection[];
  readonly dataDirectories: readonly PeDataDirectory[];
  /** Data directory 4, when its size is non-zero. */
  readonly certificateTable: PeCertificateTable | null;
  /**
   * The image's on-disk size as its headers describe it: the larger of `SizeOfHeaders` and the end
   * of the last section's raw data. Overlays (such as the certificate table) are not included.
   */
  readonly sizeFromHeaders: number;
  /** `sizeFromHeaders` runs past the end of the available bytes. */
  readonly truncated: boolean;
}

export type PeParseResult =
  | { readonly ok: true; readonly image: PeImage }
  | { readonly ok: false; readonly reason: string };

const IMAGE_FILE_DLL = 0x2000;
const DOS_HEADER_SIZE = 64;
const COFF_HEADER_SIZE = 20;
const SECTION_HEADER_SIZE = 40;
const PE32_MAGIC = 0x10b;
const PE32_PLUS_MAGIC = 0x20b;
/** The PE format defines 16 data directories; a larger NumberOfRvaAndSizes is ignored past that. */
const MAX_DATA_DIRECTORIES = 16;
const CERTIFICATE_TABLE_INDEX = 4;

const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0000, "unknown"],
  [0x014c, "i386"],
  [0x0166, "r4000"],
  [0x01c0, "arm"],
  [0x01c2, "thumb"],
  [0x01c4, "armnt"],
  [0x0200, "ia64"],
  [0x8664, "amd64"],
  [0xa641, "arm64ec"],
  [0xa64e, "arm64x"],
  [0xaa64, "arm64"],
  [0x5032, "riscv32"],
  [0x5064, "riscv64"],
]);

export function machineName(machine: number): string {
  return MACHINE_NAMES.get(machine) ?? `unknown(${hex(machine)})`;
}

/** True when the two bytes at `start` are `MZ`: the cheap test before a full parse. */
export function hasMzSignature(bytes: Uint8Array, start = 0): boolean {
  return fits(bytes.length, start, 2) && bytes[start] === 0x4d && bytes[start + 1] === 0x5a;
}

/**
 * Parses the PE headers of the image starting at `bytes[start]`. Never throws for malformed input:
 * the reason is returned instead. Work is bounded by the header sizes actually present (at most
 * 65,535 section headers, each of which must lie inside the buffer).
 */
export function parsePe(bytes: Uint8Array, start = 0): PeParseResult {
  try {
    return { ok: true, image: readPe(bytes, start) };
  } catch (error) {
    if (error instanceof FormatError) return { ok: false, reason: error.message };
    throw error;
  }
}

function readPe(bytes: Uint8Array, start: number): PeImage {
  if (!Number.isSafeInteger(start) || start < 0 || start > bytes.length) {
    throw new FormatError(`image start ${start} is outside the data`);
  }
  const available = bytes.length - start;
  if (available < DOS_HEADER_SIZE) {
    throw new FormatError(`truncated DOS header: ${available} bytes, need ${DOS_HEADER_SIZE}`);
  }
  if (!hasMzSignature(bytes, start)) throw new FormatError("no MZ signature");
  const ntHeaderOffset = u32le(bytes, start + 0x3c);
  if (!fits(available, ntHeaderOffset, 4 + COFF_HEADER_SIZE)) {
    throw new FormatError(
      `e_lfanew ${hex(ntHeaderOffset)} points outside the data (${available} bytes): no room for the NT headers`,
    );
  }
  const nt = start + ntHeaderOffset;
  if (bytes[nt] !== 0x50 || bytes[nt + 1] !== 0x45 || bytes[nt + 2] !== 0 || bytes[nt + 3] !== 0) {
    throw new FormatError(`no PE\\0\\0 signature at e_lfanew ${hex(ntHeaderOffset)}`);
  }
  const coff = nt + 4;
  const machine = u16le(bytes, coff);
  const numberOfSections = u16le(bytes, coff + 2);
  const timestamp = u32le(bytes, coff + 4);
  const sizeOfOptionalHeader = u16le(bytes, coff + 16);
  const characteristics = u16le(bytes, coff + 18);

  const optional = coff + COFF_HEADER_SIZE;
  requireRange(bytes.length, optional, sizeOfOptionalHeader, "optional header");
  if (sizeOfOptionalHeader < 2)
    throw new FormatError(`optional header too small (${sizeOfOptionalHeader} bytes)`);
  const magic = u16le(bytes, optional);
  if (magic !== PE32_MAGIC && magic !== PE32_PLUS_MAGIC) {
    throw new FormatError(`unknown optional-header magic ${hex(magic)} (expected 0x10b or 0x20b)`);
  }
  const is64 = magic === PE32_PLUS_MAGIC;
  const directoriesStart = is64 ? 112 : 96;
  if (sizeOfOptionalHeader < directoriesStart) {
    throw new FormatError(
      `optional header too small (${sizeOfOptionalHeader} bytes, a ${is64 ? "PE32+" : "PE32"} header needs ${directoriesStart})`,
    );
  }
  const entryPoint = u32le(bytes, optional + 16);
  const sizeOfImage = u32le(bytes, optional + 56);
  const sizeOfHeaders = u32le(bytes, optional + 60);
  const checksum = u32le(bytes, optional + 64);
  const declaredDirectories = u32le(bytes, optional + directoriesStart - 4);
  const directoryCount = Math.min(
    declaredDirectories,
    MAX_DATA_DIRECTORIES,
    Math.floor((sizeOfOptionalHeader - directoriesStart) / 8),
  );
  const dataDirectories: PeDataDirectory[] = [];
  for (let n = 0; n < directoryCount; n++) {
    const at = optional + directoriesStart + n * 8;
    dataDirectories.push({ address: u32le(bytes, at), size: u32le(bytes, at + 4) });
  }

  const sectionTable = optional + sizeOfOptionalHeader;
  const sectionTableLength = numberOfSections * SECTION_HEADER_SIZE;
  if (!fits(bytes.length, sectionTable, sectionTableLength)) {
    throw new FormatError(
      `section table (${numberOfSections} sections at offset ${hex(sectionTable - start)}) extends beyond the end of the data (${available} bytes)`,
    );
  }
  const sections: PeSection[] = [];
  let sizeFromHeaders = sizeOfHeaders;
  for (let n = 0; n < numberOfSections; n++) {
    const at = sectionTable + n * SECTION_HEADER_SIZE;
    const section: PeSection = {
      name: sectionName(bytes, at),
      virtualSize: u32le(bytes, at + 8),
      virtualAddress: u32le(bytes, at + 12),
      rawSize: u32le(bytes, at + 16),
      rawOffset: u32le(bytes, at + 20),
      characteristics: u32le(bytes, at + 36),
    };
    sections.push(section);
    // Both are u32, so the sum stays an exact integer in a double.
    if (section.rawSize > 0) sizeFromHeaders = Math.max(sizeFromHeaders, section.rawOffset + section.rawSize);
  }

  const certificate = dataDirectories[CERTIFICATE_TABLE_INDEX];
  const certificateTable =
    certificate && certificate.size > 0
      ? {
          offset: certificate.address,
          size: certificate.size,
          withinFile: fits(available, certificate.address, certificate.size),
        }
      : null;

  return {
    start,
    ntHeaderOffset,
    machine,
    machineName: machineName(machine),
    timestamp,
    timestampIso: unixSecondsToIso(timestamp) ?? String(timestamp),
    characteristics,
    isDll: (characteristics & IMAGE_FILE_DLL) !== 0,
    magic,
    is64,
    entryPoint,
    sizeOfImage,
    sizeOfHeaders,
    checksum,
    sections,
    dataDirectories,
    certificateTable,
    sizeFromHeaders,
    truncated: sizeFromHeaders > available,
  };
}

function sectionName(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < at + 8 && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString("latin1");
}
