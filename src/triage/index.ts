/**
 * `quarry triage`: recognises and decodes the 3CX (SUDDENICON) artefacts a responder finds on disk:
 * the d3dcompiler_47.dll carrier (RC4 payload in the certificate table), the IconStorages ICO dead
 * drop (AES-GCM C2 URL after the PNG) and the macOS `.main_storage` (XOR 0x7A). See docs/triage.md.
 *
 * Every input yields one result; a problem with one file is that file's `error`, never an exception,
 * and no decoder allocates more than the file's own size.
 */
import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { sha256Hex } from "./bytes.js";
import { type CarrierFinding, decodeCarrier } from "./carrier.js";
import { type ExtractedPayload, writePayload } from "./extract.js";
import { decodeIcoDeadDrop, type IcoDeadDropFinding } from "./ico.js";
import { decodeMainStorage, type MainStorageFinding } from "./main-storage.js";
import { bundledTriageKeys, type TriageKeys } from "./pack-keys.js";

export type { CarrierFinding, EmbeddedPe, MarkerForm } from "./carrier.js";
export {
  CARRIER_RC4_KEY,
  FEEDFACE_MARKER,
  ICO_AES_KEY,
  ICO_GCM_NONCE,
  MAIN_STORAGE_XOR_KEY,
} from "./constants.js";
export type { IcoDeadDropFinding, IcoImage } from "./ico.js";
export type { MainStorageFinding } from "./main-storage.js";
export { bundledThreeCxPack, bundledTriageKeys, loadTriageKeys, type TriageKeys } from "./pack-keys.js";
export { type PeImage, type PeParseResult, type PeSection, parsePe } from "./pe.js";
export { rc4, rc4Keystream } from "./rc4.js";

export type TriageFinding = CarrierFinding | IcoDeadDropFinding | MainStorageFinding;

/**
 * TRIAGE001 unreadable (missing, permission, not a regular file), TRIAGE002 empty file, TRIAGE003
 * larger than `maxFileSize`, TRIAGE010 corrupt PE / carrier, TRIAGE020 corrupt ICO or payload,
 * TRIAGE030 a file named `.main_storage` that does not decode. Listed in docs/errors/triage.md.
 */
export type TriageErrorCode =
  | "TRIAGE001"
  | "TRIAGE002"
  | "TRIAGE003"
  | "TRIAGE010"
  | "TRIAGE020"
  | "TRIAGE030";

export interface TriageError {
  readonly code: TriageErrorCode;
  readonly message: string;
}

export interface TriageResult {
  /** `size` and `sha256` are null when the file could not be read. */
  readonly file: { readonly path: string; readonly size: number | null; readonly sha256: string | null };
  /** Empty: no known 3CX artefact. */
  readonly findings: TriageFinding[];
  readonly error?: TriageError;
}

export interface TriageOptions {
  /**
   * Default key material: from `loadTriageKeys(packDir)`; when absent, the bundled 3CX pack's
   * `[constants]` (read once; a malformed value throws QuarryError TRIAGE040).
   */
  readonly keys?: TriageKeys;
  /** RC4 key for carriers (1-256 bytes); overrides the pack's `rc4_key` (`3jB(2bsG#@c7`). */
  readonly rc4Key?: Uint8Array;
  /** AES-256-GCM key for ICO tails; default the published key. Not 32 bytes: a per-file error. */
  readonly icoKey?: Uint8Array;
  /** GCM nonce for ICO tails; default the published 12-byte nonce. */
  readonly icoNonce?: Uint8Array;
  /** Write decoded stages and embedded PEs here as `<sha256>`, mode 0644. */
  readonly extractDir?: string;
  /** Files larger than this are not read (TRIAGE003). Default 1 GiB. */
  readonly maxFileSize?: number;
}

export const DEFAULT_MAX_FILE_SIZE = 1024 * 1024 * 1024;

/** True when the result's file could not be read at all (the CLI exits 3 when no input was read). */
export function isUnreadable(result: TriageResult): boolean {
  return result.error?.code === "TRIAGE001" || result.error?.code === "TRIAGE003";
}

/** Triages bytes already in memory; `name` is reported as the path and used to spot `.main_storage`. */
export async function triageBuffer(
  buffer: Uint8Array,
  name: string,
  options: TriageOptions = {},
): Promise<TriageResult> {
  if (options.rc4Key && (options.rc4Key.length < 1 || options.rc4Key.length > 256)) {
    throw new RangeError(`RC4 key must be 1 to 256 bytes long, got ${options.rc4Key.length}`);
  }
  const file = { path: name, size: buffer.length, sha256: sha256Hex(buffer) };
  if (buffer.length === 0) {
    return { file, findings: [], error: { code: "TRIAGE002", message: "empty file (0 bytes)" } };
  }
  const findings: TriageFinding[] = [];
  const payloads: ExtractedPayload[] = [];
  let error: TriageError | undefined;
  const note = (code: TriageErrorCode, message: string | undefined) => {
    if (message !== undefined && error === undefined) error = { code, message };
  };

  const keys = options.keys ?? bundledTriageKeys();
  const carrier = decodeCarrier(buffer, { key: options.rc4Key ?? keys.rc4Key });
  if (carrier.finding) findings.push(carrier.finding);
  payloads.push(...carrier.payloads);
  note("TRIAGE010", carrier.error);

  const ico = decodeIcoDeadDrop(buffer, {
    key: options.icoKey ?? keys.icoKey,
    nonce: options.icoNonce ?? keys.icoNonce,
  });
  if (ico.finding) findings.push(ico.finding);
  note("TRIAGE020", ico.error);

  const storage = decodeMainStorage(buffer, basename(name) === ".main_storage", keys.macosXorKey);
  if (storage.finding) findings.push(storage.finding);
  note("TRIAGE030", storage.error);

  if (options.extractDir !== undefined && payloads.length > 0) {
    await extractPayloads(options.extractDir, payloads, findings);
  }
  return error ? { file, findings, error } : { file, findings };
}

/** Reads and triages one file. Never throws for a bad file: the problem is the result's `error`. */
export async function triageFile(path: string, options: TriageOptions = {}): Promise<TriageResult> {
  const read = await readWholeFile(path, options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE);
  if ("error" in read)
    return { file: { path, size: read.size, sha256: null }, findings: [], error: read.error };
  return triageBuffer(read.bytes, path, options);
}

type ReadOutcome =
  | { readonly bytes: Uint8Array }
  | { readonly error: TriageError; readonly size: number | null };

/**
 * Regular files only: a FIFO or device could block or never end. O_NONBLOCK keeps `open` itself
 * from waiting on a FIFO that replaced the file between `stat` and `open`; `fstat` re-checks the
 * opened file. At most the stat'ed size is read, so a growing file cannot grow the allocation.
 */
async function readWholeFile(path: string, maxSize: number): Promise<ReadOutcome> {
  const unreadable = (message: string, size: number | null = null): ReadOutcome => ({
    error: { code: "TRIAGE001", message },
    size,
  });
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    const before = await stat(path);
    if (before.isDirectory()) return unreadable("cannot read: is a directory");
    if (!before.isFile()) return unreadable("cannot read: not a regular file (device, FIFO or socket)");
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = await handle.stat();
    if (!stats.isFile()) return unreadable("cannot read: not a regular file (device, FIFO or socket)");
    if (stats.size > maxSize) {
      return {
        error: {
          code: "TRIAGE003",
          message: `file is ${stats.size} bytes, over the ${maxSize}-byte triage limit`,
        },
        size: stats.size,
      };
    }
    const bytes = Buffer.alloc(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { bytes: bytes.subarray(0, filled) };
  } catch (error) {
    return unreadable(`cannot read: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function extractPayloads(
  dir: string,
  payloads: readonly ExtractedPayload[],
  findings: readonly TriageFinding[],
): Promise<void> {
  const outcomes = new Map<string, { path?: string; error?: string }>();
  for (const payload of payloads) {
    if (outcomes.has(payload.sha256)) continue;
    const outcome = await writePayload(dir, payload);
    outcomes.set(payload.sha256, "path" in outcome ? { path: outcome.path } : { error: outcome.error });
  }
  for (const finding of findings) {
    if (finding.kind !== "carrier") continue;
    for (const target of [finding.stage, ...finding.embeddedPes]) {
      const outcome = outcomes.get(target.sha256);
      if (outcome?.path !== undefined) target.extractedTo = outcome.path;
      if (outcome?.error !== undefined) target.extractError = outcome.error;
    }
  }
}
