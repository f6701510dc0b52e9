/**
 * Messages between the scan coordinator (main thread) and its worker threads, and the per-file result a
 * worker computes. Kept to plain data so they cross `postMessage` by structured clone.
 */
import type { FileHashes } from "./hash.js";
import type { YaraMetaValue } from "./yara.js";

export interface WorkerConfig {
  /** Serialized compiled rules, or null for a hash-only sweep. */
  readonly rules: Uint8Array | null;
  readonly hashes: boolean;
  /** Files larger than this are hashed (streaming) but not YARA-scanned unless `scanLarge`. */
  readonly maxSize: number;
  readonly scanLarge: boolean;
  /** At most this many matches of one pattern are reported per rule (the condition still sees all). */
  readonly maxStringsPerPattern: number;
  /** Matched bytes are shown as hex up to this many bytes (the `length` is always the real length). */
  readonly maxHexBytes: number;
  /** YARA scan timeout per file, in seconds (0 = none). */
  readonly timeoutSeconds: number;
}

export interface ScanTask {
  readonly id: number;
  readonly path: string;
}

export interface YaraStringHit {
  readonly id: string;
  readonly offset: number;
  readonly length: number;
  readonly hex: string;
}

export interface YaraFinding {
  readonly rule: string;
  readonly namespace: string;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, YaraMetaValue>>;
  readonly strings: readonly YaraStringHit[];
}

/** Why YARA did not look at a file that was otherwise read. */
export type YaraSkipReason = "too-large" | "no-rules";

export type FileResult =
  | {
      readonly id: number;
      readonly ok: true;
      readonly path: string;
      /** Bytes actually read (the size at open time). */
      readonly size: number;
      readonly hashes: FileHashes | null;
      readonly yara: readonly YaraFinding[];
      readonly yaraSkipped: YaraSkipReason | null;
      /** YARA failed on this file (e.g. timeout); hashes are still valid. */
      readonly yaraError: string | null;
    }
  | { readonly id: number; readonly ok: false; readonly path: string; readonly error: string };

export type WorkerReply =
  | { readonly kind: "ready" }
  | { readonly kind: "init-error"; readonly message: string }
  | {
      readonly kind: "result";
      readonly result: FileResult;
    };
