/**
 * The macOS `.main_storage` file written by the trojanised libffmpeg.dylib (FACTS.md §6): exactly 56
 * bytes, every byte XORed with 0x7A. Decoded layout (derived from Wardle's hexdump; field meaning
 * inferred): bytes 0-35 a UUID as text, bytes 36-47 zero, bytes 48-55 a u64 little-endian Unix time.
 * Recognised by size and by the decoded UUID text, so the file name does not matter.
 */
import { u64le, unixSecondsToIso } from "./bytes.js";
import { MAIN_STORAGE_SIZE, MAIN_STORAGE_XOR_KEY } from "./constants.js";

export interface MainStorageFinding {
  readonly kind: "main-storage";
  readonly uuid: string;
  /** The u64 at bytes 48-55, as decimal text (exact for any value). */
  readonly timestamp: string;
  /** `timestamp` read as Unix seconds, or null when a date cannot represent it. */
  readonly timestampIso: string | null;
  /** Bytes 36-47 decode to zero, as in the published sample. */
  readonly reservedBytesZero: boolean;
  readonly notes: string[];
}

export interface MainStorageResult {
  readonly finding: MainStorageFinding | null;
  readonly error?: string;
}

const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const UUID_LENGTH = 36;
const RESERVED_END = 48;

/**
 * Decodes a `.main_storage` file. `named` says the file is called `.main_storage`: only then is a
 * mismatch reported as an error (any 56-byte file is tried, and most are simply something else).
 */
export function decodeMainStorage(
  bytes: Uint8Array,
  named = false,
  xorKey: number = MAIN_STORAGE_XOR_KEY,
): MainStorageResult {
  if (bytes.length !== MAIN_STORAGE_SIZE) {
    return named
      ? {
          finding: null,
          error: `.main_storage is ${bytes.length} bytes; the known layout has ${MAIN_STORAGE_SIZE}`,
        }
      : { finding: null };
  }
  const plain = bytes.map((b) => b ^ xorKey);
  const uuid = Buffer.from(plain.buffer, plain.byteOffset, UUID_LENGTH).toString("latin1");
  if (!UUID_TEXT.test(uuid)) {
    return named
      ? {
          finding: null,
          error: `.main_storage does not decode (XOR 0x${xorKey.toString(16).toUpperCase().padStart(2, "0")}) to a UUID in bytes 0-35`,
        }
      : { finding: null };
  }
  const reservedBytesZero = plain.subarray(UUID_LENGTH, RESERVED_END).every((b) => b === 0);
  const timestamp = u64le(plain, RESERVED_END);
  const notes: string[] = [];
  if (!reservedBytesZero) notes.push("bytes 36-47 are not zero after decoding");
  return {
    finding: {
      kind: "main-storage",
      uuid,
      timestamp: timestamp.toString(),
      timestampIso: unixSecondsToIso(timestamp),
      reservedBytesZero,
      notes,
    },
  };
}
