/**
 * The IconStorages ICO dead drop (FACTS.md §4): an ordinary icon whose PNG image is followed by data
 * the ICO directory does not cover,
 *
 *     ICONDIR, ICONDIRENTRY x count, PNG ... IEND chunk, '$', base64([u32 prefix][16-byte GCM tag][ciphertext])
 *
 * Decoding: read the directory (every entry must lie inside the file); walk each PNG's chunks to its
 * IEND; the tail starts at the end of the last image; when it starts with `$`, the rest (to EOF) is
 * strict standard base64; AES-256-GCM-decrypt the ciphertext with the published key and nonce (no
 * AAD) and verify the tag; the plaintext is a UTF-16LE URL ending in one UTF-16 NUL. A tag that does
 * not verify is a finding with `tagVerified: false`, not an error.
 */
import { createDecipheriv } from "node:crypto";
import { FormatError, fits, hex, toHex, u16le, u32be, u32le } from "./bytes.js";
import { ICO_AES_KEY, ICO_GCM_NONCE, ICO_GCM_TAG_LENGTH, ICO_PREFIX_LENGTH } from "./constants.js";

export interface IcoImage {
  readonly width: number;
  readonly height: number;
  readonly bitsPerPixel: number;
  readonly offset: number;
  readonly size: number;
  readonly format: "png" | "dib";
  /** For PNG images: where the IEND chunk (with its CRC) ends; null when no IEND was found. */
  readonly pngEnd: number | null;
}

export interface IcoDeadDropFinding {
  readonly kind: "ico-dead-drop";
  readonly images: readonly IcoImage[];
  /** Offset of the `$` that starts the appended data. */
  readonly tailOffset: number;
  /** Bytes from the `$` to the end of the file. */
  readonly tailLength: number;
  readonly base64Length: number;
  /** The 4 bytes before the tag, hex (0x29 little-endian in every known file; meaning unknown). */
  readonly prefixHex: string;
  readonly tagHex: string;
  readonly ciphertextLength: number;
  /** null when decryption was not attempted (unusable key or nonce; the file's `error` says why). */
  readonly tagVerified: boolean | null;
  /** The decoded URL (up to the first UTF-16 NUL), or null when the tag did not verify. */
  readonly url: string | null;
  readonly notes: string[];
}

export interface IcoResult {
  readonly finding: IcoDeadDropFinding | null;
  readonly error?: string;
}

export interface IcoOptions {
  /** AES-256 key (32 bytes); default the published IconStorages key. */
  readonly key?: Uint8Array;
  /** GCM nonce; default the published 12-byte nonce. */
  readonly nonce?: Uint8Array;
}

const ICONDIR_SIZE = 6;
const ICONDIRENTRY_SIZE = 16;
const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const IEND = 0x49454e44;
const DOLLAR = 0x24;
const AES_256_KEY_LENGTH = 32;

/** `00 00 01 00` (icon) or `00 00 02 00` (cursor): the ICONDIR reserved word and type. */
export function hasIcoSignature(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0 &&
    bytes[1] === 0 &&
    (bytes[2] === 1 || bytes[2] === 2) &&
    bytes[3] === 0
  );
}

/**
 * Decodes an ICO dead drop. `finding: null` for a file that is not an ICO or an icon with nothing (or
 * no `$`) appended; `error` for a corrupt directory, PNG or payload. Never throws for malformed input.
 */
export function decodeIcoDeadDrop(bytes: Uint8Array, options: IcoOptions = {}): IcoResult {
  if (!hasIcoSignature(bytes)) return { finding: null };
  try {
    return decode(bytes, options);
  } catch (error) {
    if (error instanceof FormatError) return { finding: null, error: error.message };
    throw error;
  }
}

function decode(bytes: Uint8Array, options: IcoOptions): IcoResult {
  const notes: string[] = [];
  if (bytes.length < ICONDIR_SIZE) throw new FormatError(`truncated ICO header: ${bytes.length} bytes`);
  const count = u16le(bytes, 4);
  if (count === 0) throw new FormatError("ICO directory lists no images");
  if (!fits(bytes.length, ICONDIR_SIZE, count * ICONDIRENTRY_SIZE)) {
    throw new FormatError(
      `truncated ICO directory: ${count} entries need ${ICONDIR_SIZE + count * ICONDIRENTRY_SIZE} bytes, the file has ${bytes.length}`,
    );
  }
  const images: IcoImage[] = [];
  let imagesEnd = ICONDIR_SIZE + count * ICONDIRENTRY_SIZE;
  for (let n = 0; n < count; n++) {
    const at = ICONDIR_SIZE + n * ICONDIRENTRY_SIZE;
    const size = u32le(bytes, at + 8);
    const offset = u32le(bytes, at + 12);
    if (!fits(bytes.length, offset, size)) {
      throw new FormatError(
        `ICO image ${n} (offset ${hex(offset)}, ${size} bytes) extends beyond the end of the file (${bytes.length} bytes)`,
      );
    }
    const isPng = size >= PNG_SIGNATURE.length && PNG_SIGNATURE.every((b, i) => bytes[offset + i] === b);
    const pngEnd = isPng ? findPngEnd(bytes, offset, n) : null;
    if (isPng && pngEnd === null) notes.push(`ICO image ${n}: PNG has no IEND chunk`);
    if (pngEnd !== null && pngEnd !== offset + size) {
      notes.push(`ICO image ${n}: PNG ends at ${hex(pngEnd)}, the directory says ${hex(offset + size)}`);
    }
    images.push({
      width: bytes[at] === 0 ? 256 : bytes[at],
      height: bytes[at + 1] === 0 ? 256 : bytes[at + 1],
      bitsPerPixel: u16le(bytes, at + 6),
      offset,
      size,
      format: isPng ? "png" : "dib",
      pngEnd,
    });
    // The loader looks for the data right after the PNG's IEND, which is also the declared end in
    // every known file; when they differ the IEND wins (that is what the malware and YARA rule see).
    imagesEnd = Math.max(imagesEnd, pngEnd ?? offset + size);
  }

  if (imagesEnd >= bytes.length || bytes[imagesEnd] !== DOLLAR) return { finding: null };
  const tailOffset = imagesEnd;
  // Trailing whitespace is tolerated (a copy through a text tool may add a newline); trimmed by hand
  // because a `\s+$` regex backtracks quadratically on long inner runs of whitespace.
  let textEnd = bytes.length;
  while (textEnd > tailOffset + 1 && isAsciiSpace(bytes[textEnd - 1])) textEnd--;
  const base64Text = Buffer.from(
    bytes.buffer,
    bytes.byteOffset + tailOffset + 1,
    textEnd - tailOffset - 1,
  ).toString("latin1");
  const problem = base64Problem(base64Text);
  if (problem) throw new FormatError(`invalid base64 after the '$' at offset ${hex(tailOffset)}: ${problem}`);
  const decoded = Buffer.from(base64Text, "base64");
  const headerLength = ICO_PREFIX_LENGTH + ICO_GCM_TAG_LENGTH;
  if (decoded.length < headerLength) {
    throw new FormatError(
      `decoded ICO tail is ${decoded.length} bytes; it needs at least ${headerLength} (4-byte prefix and 16-byte GCM tag)`,
    );
  }
  const prefix = decoded.subarray(0, ICO_PREFIX_LENGTH);
  const tag = decoded.subarray(ICO_PREFIX_LENGTH, headerLength);
  const ciphertext = decoded.subarray(headerLength);

  const key = options.key ?? ICO_AES_KEY;
  const nonce = options.nonce ?? ICO_GCM_NONCE;
  const structure = {
    kind: "ico-dead-drop" as const,
    images,
    tailOffset,
    tailLength: bytes.length - tailOffset,
    base64Length: base64Text.length,
    prefixHex: toHex(prefix),
    tagHex: toHex(tag),
    ciphertextLength: ciphertext.length,
  };
  if (key.length !== AES_256_KEY_LENGTH || nonce.length === 0) {
    const why =
      key.length !== AES_256_KEY_LENGTH
        ? `the key is ${key.length} bytes; AES-256-GCM needs ${AES_256_KEY_LENGTH}`
        : "the nonce is empty";
    return {
      finding: { ...structure, tagVerified: null, url: null, notes },
      error: `cannot decrypt the ICO tail: ${why}`,
    };
  }

  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: ICO_GCM_TAG_LENGTH });
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext);
  let tagVerified: boolean;
  try {
    decipher.final();
    tagVerified = true;
  } catch {
    tagVerified = false;
    notes.push("GCM tag does not verify (wrong key or nonce, or the tail was altered)");
  }
  return {
    finding: { ...structure, tagVerified, url: tagVerified ? decodeUrl(plaintext, notes) : null, notes },
  };
}

/**
 * End of the PNG at `start` (just after the IEND chunk's CRC), or null without IEND. Each step
 * advances at least 12 bytes and every chunk must fit in the file, so the walk is linear and safe.
 */
function findPngEnd(bytes: Uint8Array, start: number, image: number): number | null {
  let at = start + PNG_SIGNATURE.length;
  while (at < bytes.length) {
    if (!fits(bytes.length, at, 12)) {
      throw new FormatError(`ICO image ${image}: truncated PNG chunk header at offset ${hex(at)}`);
    }
    const length = u32be(bytes, at);
    if (length > 0x7fffffff) {
      throw new FormatError(`ICO image ${image}: PNG chunk at offset ${hex(at)} claims ${length} bytes`);
    }
    if (!fits(bytes.length, at, 12 + length)) {
      throw new FormatError(
        `ICO image ${image}: PNG chunk at offset ${hex(at)} (${length} bytes) extends beyond the end of the file (${bytes.length} bytes)`,
      );
    }
    const type = u32be(bytes, at + 4);
    at += 12 + length;
    if (type === IEND) return at;
  }
  return null;
}

function isAsciiSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Strict RFC 4648 base64 (standard alphabet, `=` only as final padding); null when valid. */
function base64Problem(text: string): string | null {
  if (text.length === 0) return "no base64 text follows the '$'";
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const isAlphabet =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f;
    if (c === 0x3d) {
      padding++;
      continue;
    }
    if (!isAlphabet) return `character ${hex(c)} at position ${i} is not in the base64 alphabet`;
    if (padding > 0) return `data after '=' padding at position ${i}`;
  }
  if (padding > 2) return `${padding} '=' padding characters`;
  if (text.length % 4 !== 0) return `length ${text.length} is not a multiple of 4`;
  return null;
}

/** UTF-16LE up to the first NUL code unit. */
function decodeUrl(plaintext: Buffer, notes: string[]): string {
  if (plaintext.length % 2 !== 0) notes.push(`plaintext has an odd length (${plaintext.length} bytes)`);
  let end = 0;
  while (end + 1 < plaintext.length && !(plaintext[end] === 0 && plaintext[end + 1] === 0)) end += 2;
  if (end + 1 >= plaintext.length) notes.push("plaintext has no UTF-16 NUL terminator");
  return plaintext.subarray(0, end).toString("utf16le");
}
