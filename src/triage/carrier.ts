/**
 * The d3dcompiler_47.dll carrier (SUDDENICON stage 1, FACTS.md §3.1): a signed PE with an RC4-encrypted
 * blob hidden in its Authenticode certificate table, in the SigFlip layout
 *
 *     certificate table = WIN_CERTIFICATE(PKCS#7) + FE ED FA CE FE ED FA CE + RC4(key, payload) + '0' x (0..7)
 *
 * Decoding: parse the PE; take data directory 4 (a file offset and size); find the first FEEDFACE
 * inside it (doubled or single); the ciphertext runs from after the marker to the end of the table,
 * less the trailing ASCII '0' padding (SigFlip appends 0..7 of them unencrypted, so that the file size
 * stays a multiple of 8; there is no length field). When the table is absent, out of bounds, or the
 * headers are corrupt, the whole file is searched instead (doubled marker first, then single). The
 * decrypted stage is a shellcode stub followed by a DLL: every embedded PE is located and described
 * from its own headers.
 */
import { fits, hex, indexOfBytes, sha256Hex, toHex } from "./bytes.js";
import { CARRIER_RC4_KEY, D3DCOMPILER_PDB_NAME, FEEDFACE_MARKER, SIGFLIP_PADDING_BYTE } from "./constants.js";
import type { ExtractedPayload } from "./extract.js";
import { hasMzSignature, type PeImage, parsePe } from "./pe.js";
import { rc4 } from "./rc4.js";

export type MarkerForm = "doubled" | "single";

export interface EmbeddedPe {
  /** Offset of the `MZ` inside the decrypted stage. */
  readonly offset: number;
  /** Size from the embedded PE's own headers (headers plus section raw data). */
  readonly size: number;
  /** The headers claim more bytes than the stage holds; `sha256` covers only what is present. */
  readonly truncated: boolean;
  readonly sha256: string;
  readonly machine: number;
  readonly machineName: string;
  readonly timestamp: number;
  readonly timestampIso: string;
  readonly isDll: boolean;
  readonly is64: boolean;
  /** Set by `--extract`: where the bytes were written, or why they were not. */
  extractedTo?: string;
  extractError?: string;
}

export interface CarrierFinding {
  readonly kind: "carrier";
  /** Where the marker was found: inside data directory 4, or by a search of the whole file. */
  readonly region: "certificate-table" | "file";
  /** Data directory 4 as the headers state it (null when absent or the headers are unreadable). */
  readonly certificateTable: { readonly offset: number; readonly size: number } | null;
  readonly marker: { readonly offset: number; readonly form: MarkerForm };
  readonly encryptedOffset: number;
  readonly encryptedLength: number;
  /** Trailing ASCII '0' bytes after the ciphertext (SigFlip's 0..7 bytes of padding). */
  readonly paddingLength: number;
  /** The RC4 key used, hex. */
  readonly keyHex: string;
  readonly stage: {
    readonly size: number;
    readonly sha256: string;
    extractedTo?: string;
    extractError?: string;
  };
  readonly embeddedPes: EmbeddedPe[];
  /** The carrier itself: null when its headers could not be read. */
  readonly carrierPe: {
    readonly machineName: string;
    readonly timestamp: number;
    readonly timestampIso: string;
    readonly isDll: boolean;
  } | null;
  /** The file contains the ASCII PDB name `D3DCompiler_47.pdb` (Elastic's rule bdae76c9 pairs it with the marker). */
  readonly d3dcompilerPdbName: boolean;
  /** Anomalies worth a look (corrupt headers, truncated embedded PE, ...). */
  readonly notes: string[];
}

export interface CarrierResult {
  readonly finding: CarrierFinding | null;
  /** A structural problem: corrupt headers, certificate table outside the file. */
  readonly error?: string;
  readonly payloads: readonly ExtractedPayload[];
}

export interface CarrierOptions {
  /** RC4 key; default the 3CX key `3jB(2bsG#@c7`. */
  readonly key?: Uint8Array;
}

/** More than this many embedded PEs in one stage is not a loader; stop looking (bounds the work). */
const MAX_EMBEDDED_PES = 16;
/** SigFlip pads with at most 7 bytes (it pads to the next multiple of 8). */
const MAX_PADDING = 7;
const DOUBLED_MARKER = Uint8Array.of(...FEEDFACE_MARKER, ...FEEDFACE_MARKER);
const PDB_NAME_BYTES = Uint8Array.from(Buffer.from(D3DCOMPILER_PDB_NAME, "latin1"));

/**
 * Decodes a carrier. Returns `finding: null` for anything that is not an `MZ` file or holds no
 * marker. Never throws for malformed input; allocation is bounded by the file's size.
 */
export function decodeCarrier(bytes: Uint8Array, options: CarrierOptions = {}): CarrierResult {
  if (!hasMzSignature(bytes)) return { finding: null, payloads: [] };
  const key = options.key ?? CARRIER_RC4_KEY;
  const notes: string[] = [];
  let error: string | undefined;

  const parsed = parsePe(bytes);
  const image: PeImage | null = parsed.ok ? parsed.image : null;
  if (!parsed.ok) error = `corrupt PE headers: ${parsed.reason}`;
  const table = image?.certificateTable ?? null;
  if (table && !table.withinFile) {
    error = `certificate table (offset ${hex(table.offset)}, ${table.size} bytes) lies outside the file (${bytes.length} bytes)`;
  }

  let located: LocatedMarker | null = null;
  if (table?.withinFile) {
    located = findMarker(bytes, table.offset, table.offset + table.size, false);
    if (located) located = { ...located, region: "certificate-table" };
  }
  if (!located) {
    // No usable table, or nothing in it: a blob may still sit in an overlay or a damaged file.
    // A lone 4-byte marker is accepted only when there is no certificate table to look in at all.
    located = findMarker(bytes, 0, bytes.length, table?.withinFile === true);
    if (located && table?.withinFile) notes.push("marker found outside the certificate table");
  }
  if (!located) return { finding: null, error, payloads: [] };
  if (error) notes.push(error);

  const dataStart = located.markerOffset + (located.form === "doubled" ? 8 : 4);
  let paddingLength = 0;
  while (
    paddingLength < MAX_PADDING &&
    located.regionEnd - paddingLength - 1 >= dataStart &&
    bytes[located.regionEnd - paddingLength - 1] === SIGFLIP_PADDING_BYTE
  ) {
    paddingLength++;
  }
  const encryptedLength = located.regionEnd - dataStart - paddingLength;
  if (encryptedLength === 0) notes.push("nothing follows the marker");
  const stage = rc4(key, bytes.subarray(dataStart, dataStart + encryptedLength));
  const stageSha256 = sha256Hex(stage);
  const payloads: ExtractedPayload[] = [{ role: "stage", sha256: stageSha256, bytes: stage }];
  const embeddedPes = findEmbeddedPes(stage, notes, payloads);
  if (embeddedPes.length === 0 && encryptedLength > 0) {
    notes.push("no PE in the decrypted stage (wrong key, or not a SUDDENICON payload)");
  }

  const finding: CarrierFinding = {
    kind: "carrier",
    region: located.region,
    certificateTable: table ? { offset: table.offset, size: table.size } : null,
    marker: { offset: located.markerOffset, form: located.form },
    encryptedOffset: dataStart,
    encryptedLength,
    paddingLength,
    keyHex: toHex(key),
    stage: { size: stage.length, sha256: stageSha256 },
    embeddedPes,
    carrierPe: image
      ? {
          machineName: image.machineName,
          timestamp: image.timestamp,
          timestampIso: image.timestampIso,
          isDll: image.isDll,
        }
      : null,
    d3dcompilerPdbName: indexOfBytes(bytes, PDB_NAME_BYTES) >= 0,
    notes,
  };
  return { finding, error, payloads };
}

interface LocatedMarker {
  readonly markerOffset: number;
  readonly form: MarkerForm;
  /** The ciphertext (plus padding) runs to here: the end of the table, or of the file. */
  readonly regionEnd: number;
  readonly region: "certificate-table" | "file";
}

/**
 * Finds the marker in `bytes[start, end)`. Inside the certificate table the first 4-byte hit wins
 * (as SigLoader and ffmpeg.dll scan); over a whole file the doubled marker is preferred, and the
 * single one is tried only when `doubledOnly` is false.
 */
function findMarker(
  bytes: Uint8Array,
  start: number,
  end: number,
  doubledOnly: boolean,
): LocatedMarker | null {
  if (!fits(bytes.length, start, end - start)) return null;
  const wholeFile = start === 0 && end === bytes.length;
  if (wholeFile) {
    const doubled = indexOfBytes(bytes, DOUBLED_MARKER, start, end);
    if (doubled >= 0) return { markerOffset: doubled, form: "doubled", regionEnd: end, region: "file" };
    if (doubledOnly) return null;
  }
  const single = indexOfBytes(bytes, FEEDFACE_MARKER, start, end);
  if (single < 0) return null;
  const form: MarkerForm =
    single + 8 <= end && indexOfBytes(bytes, FEEDFACE_MARKER, single + 4, single + 8) === single + 4
      ? "doubled"
      : "single";
  return { markerOffset: single, form, regionEnd: end, region: "file" };
}

/**
 * Every PE in the stage, in order, non-overlapping. Each `MZ` candidate costs O(1) to reject, and at
 * most MAX_EMBEDDED_PES are accepted, so the scan is linear in the stage size.
 */
function findEmbeddedPes(stage: Uint8Array, notes: string[], payloads: ExtractedPayload[]): EmbeddedPe[] {
  const found: EmbeddedPe[] = [];
  const mz = Uint8Array.of(0x4d, 0x5a);
  let from = 0;
  while (found.length < MAX_EMBEDDED_PES) {
    const at = indexOfBytes(stage, mz, from);
    if (at < 0) break;
    const parsed = parsePe(stage, at);
    if (!parsed.ok) {
      from = at + 1;
      continue;
    }
    const image = parsed.image;
    const available = stage.length - at;
    const present = Math.min(image.sizeFromHeaders, available);
    const bytes = stage.subarray(at, at + present);
    const sha256 = sha256Hex(bytes);
    if (image.truncated) {
      notes.push(
        `embedded PE at ${hex(at)} claims ${image.sizeFromHeaders} bytes but only ${available} are present`,
      );
    }
    found.push({
      offset: at,
      size: image.sizeFromHeaders,
      truncated: image.truncated,
      sha256,
      machine: image.machine,
      machineName: image.machineName,
      timestamp: image.timestamp,
      timestampIso: image.timestampIso,
      isDll: image.isDll,
      is64: image.is64,
    });
    payloads.push({ role: "embedded-pe", sha256, bytes });
    from = at + Math.max(present, 2);
  }
  return found;
}
