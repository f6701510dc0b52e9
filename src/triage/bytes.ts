/**
 * Bounds-checked little- and big-endian reads over untrusted bytes. Every decoder in triage reads
 * through these so that an offset or length taken from a hostile file can never index past the
 * buffer: a read that does not fit throws `FormatError`, which the decoders turn into a per-file error.
 */
import { createHash } from "node:crypto";

/** A structural problem in the input file (truncated header, offset outside the file, ...). */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FormatError";
  }
}

/** Throws unless `[offset, offset + length)` lies inside a buffer of `size` bytes. */
export function requireRange(size: number, offset: number, length: number, what: string): void {
  if (!fits(size, offset, length)) {
    throw new FormatError(
      `${what} (offset ${hex(offset)}, ${length} bytes) extends beyond the end of the data (${size} bytes)`,
    );
  }
}

/** True when `[offset, offset + length)` lies inside a buffer of `size` bytes (all integers >= 0). */
export function fits(size: number, offset: number, length: number): boolean {
  return (
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset <= size &&
    length <= size - offset
  );
}

export function u8(bytes: Uint8Array, offset: number): number {
  requireRange(bytes.length, offset, 1, "byte");
  return bytes[offset];
}

export function u16le(bytes: Uint8Array, offset: number): number {
  requireRange(bytes.length, offset, 2, "16-bit field");
  return bytes[offset] | (bytes[offset + 1] << 8);
}

export function u32le(bytes: Uint8Array, offset: number): number {
  requireRange(bytes.length, offset, 4, "32-bit field");
  return (
    (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0
  );
}

export function u32be(bytes: Uint8Array, offset: number): number {
  requireRange(bytes.length, offset, 4, "32-bit field");
  return (
    ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0
  );
}

export function u64le(bytes: Uint8Array, offset: number): bigint {
  const low = u32le(bytes, offset);
  const high = u32le(bytes, offset + 4);
  return (BigInt(high) << 32n) | BigInt(low);
}

/** Index of the first occurrence of `needle` in `haystack[from, to)`, or -1. Linear time. */
export function indexOfBytes(
  haystack: Uint8Array,
  needle: Uint8Array,
  from = 0,
  to = haystack.length,
): number {
  if (needle.length === 0) return from <= to ? from : -1;
  const view = Buffer.from(haystack.buffer, haystack.byteOffset, Math.min(to, haystack.length));
  // Buffer.indexOf is a linear-time native search; a needle longer than the window simply misses.
  return view.indexOf(Buffer.from(needle.buffer, needle.byteOffset, needle.length), from);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}

/** `0x1f` style, for messages. */
export function hex(value: number): string {
  return Number.isSafeInteger(value) && value >= 0 ? `0x${value.toString(16)}` : String(value);
}

/** ISO-8601 text for a Unix time in seconds, or null when a Date cannot represent it. */
export function unixSecondsToIso(seconds: number | bigint): string | null {
  const ms = typeof seconds === "bigint" ? Number(seconds) * 1000 : seconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString().replace(".000Z", "Z");
}
