/**
 * The scan coordinator: walks the inputs (ahead of the scanning, bounded, so progress can show an ETA),
 * hands files to the worker pool, matches each file's hashes against the hash indicators, and emits one
 * record per file with a finding, in walk order whatever the thread count (results are reordered by the
 * sequence number given at walk time, so output is deterministic).
 */
import { cpus } from "node:os";
import { compileGlob } from "./glob.js";
import type { FileHashes } from "./hash.js";
import type { HashIndicators, IndicatorHit } from "./indicators.js";
import { ScanPool } from "./pool.js";
import type { FileResult, WorkerConfig, YaraFinding } from "./protocol.js";
import { type WalkEntry, type WalkIssue, walkInputs } from "./walk.js";

export interface ScanRecord {
  readonly file: { readonly path: string; readonly size: number; readonly hash: FileHashes | null };
  readonly yara: readonly YaraFinding[];
  readonly indicators: readonly IndicatorHit[];
}

/** Something about one input that the user should hear about (on stderr). */
export interface ScanIssue {
  readonly path: string;
  readonly kind: "unreadable" | "special" | "loop" | "yara-error";
  readonly message: string;
  readonly explicit: boolean;
}

export interface ScanProgress {
  readonly files: number;
  readonly bytes: number;
  /** Files and bytes found by the walk so far; final once `walkDone`. */
  readonly filesFound: number;
  readonly bytesFound: number;
  readonly walkDone: boolean;
  readonly elapsedMs: number;
}

export interface ScanSummary {
  /** Regular files read (hashed and/or scanned). */
  readonly files: number;
  readonly bytes: number;
  readonly filesWithFindings: number;
  readonly yaraMatches: number;
  readonly indicatorMatches: number;
  readonly unreadable: number;
  /** Unreadable paths named on the command line. */
  readonly unreadableExplicit: number;
  readonly special: number;
  readonly loops: number;
  /** Files over --max-size that were hashed but not YARA-scanned. */
  readonly notYaraScanned: number;
  readonly yaraErrors: number;
  readonly inputs: number;
  readonly elapsedMs: number;
}

export interface ScanOptions {
  readonly paths: readonly string[];
  /** Serialized compiled YARA rules, or null for none. */
  readonly rules: Uint8Array | null;
  readonly indicators: HashIndicators | null;
  readonly hashes: boolean;
  readonly threads?: number;
  readonly maxSize: number;
  readonly scanLarge?: boolean;
  readonly exclude?: readonly string[];
  readonly maxStringsPerPattern?: number;
  readonly maxHexBytes?: number;
  readonly timeoutSeconds?: number;
  readonly onRecord: (record: ScanRecord) => void | Promise<void>;
  readonly onIssue?: (issue: ScanIssue) => void;
  readonly onProgress?: (progress: ScanProgress) => void;
}

export const DEFAULT_MAX_SIZE = 256 * 1024 * 1024;
export const DEFAULT_MAX_STRINGS_PER_PATTERN = 100;
/** As YARA's default `max_match_data`: matched bytes shown up to 512. */
export const DEFAULT_MAX_HEX_BYTES = 512;
/** How many walked files may wait for a worker (bounds memory on huge trees). */
const WALK_AHEAD = 100_000;

export function defaultThreads(): number {
  return Math.max(1, Math.min(cpus().length, 16));
}

/** Run a scan; resolves with the summary after every record has been handed to `onRecord`. */
export async function runScan(options: ScanOptions): Promise<ScanSummary> {
  const started = performance.now();
  const exclude = (options.exclude ?? []).map(compileGlob);
  const issue = options.onIssue ?? (() => {});
  const counts = {
    files: 0,
    bytes: 0,
    filesWithFindings: 0,
    yaraMatches: 0,
    indicatorMatches: 0,
    unreadable: 0,
    unreadableExplicit: 0,
    special: 0,
    loops: 0,
    notYaraScanned: 0,
    yaraErrors: 0,
  };
  const onWalkIssue = (w: WalkIssue) => {
    if (w.kind === "unreadable") {
      counts.unreadable++;
      if (w.explicit) counts.unreadableExplicit++;
    } else if (w.kind === "special") counts.special++;
    else counts.loops++;
    issue({ path: w.path, kind: w.kind, message: w.message, explicit: w.explicit });
  };

  // The walk runs ahead of the pool into a bounded queue.
  const queue: WalkEntry[] = [];
  let queueHead = 0;
  let walkDone = false;
  let walkError: unknown = null;
  let aborted = false;
  let filesFound = 0;
  let bytesFound = 0;
  // Resolvers of whoever is waiting: the consumer for more entries, the producer for room in the queue.
  const wake: { consumer: (() => void) | null; producer: (() => void) | null } = {
    consumer: null,
    producer: null,
  };
  const walker = (async () => {
    try {
      for await (const entry of walkInputs(options.paths, { exclude, onIssue: onWalkIssue })) {
        if (aborted) break;
        queue.push(entry);
        filesFound++;
        bytesFound += entry.size;
        wake.consumer?.();
        while (!aborted && queue.length - queueHead >= WALK_AHEAD)
          await new Promise<void>((r) => (wake.producer = r));
      }
    } catch (error) {
      walkError = error;
    } finally {
      walkDone = true;
      wake.consumer?.();
    }
  })();

  const config: WorkerConfig = {
    rules: options.rules,
    hashes: options.hashes,
    maxSize: options.maxSize,
    scanLarge: options.scanLarge ?? false,
    maxStringsPerPattern: options.maxStringsPerPattern ?? DEFAULT_MAX_STRINGS_PER_PATTERN,
    maxHexBytes: options.maxHexBytes ?? DEFAULT_MAX_HEX_BYTES,
    timeoutSeconds: options.timeoutSeconds ?? 0,
  };
  const pending = new Map<number, FileResult>();
  let nextToEmit = 0;
  const pool = new ScanPool(options.threads ?? defaultThreads(), config, (result) => {
    pending.set(result.id, result);
  });
  const progress = () =>
    options.onProgress?.({
      files: counts.files,
      bytes: counts.bytes,
      filesFound,
      bytesFound,
      walkDone,
      elapsedMs: performance.now() - started,
    });

  const emitReady = async () => {
    for (;;) {
      const result = pending.get(nextToEmit);
      if (!result) return;
      pending.delete(nextToEmit);
      nextToEmit++;
      await handle(result);
    }
  };
  const handle = async (result: FileResult) => {
    if (!result.ok) {
      counts.unreadable++;
      issue({ path: result.path, kind: "unreadable", message: result.error, explicit: false });
      return;
    }
    counts.files++;
    counts.bytes += result.size;
    if (result.yaraSkipped === "too-large") counts.notYaraScanned++;
    if (result.yaraError) {
      counts.yaraErrors++;
      issue({ path: result.path, kind: "yara-error", message: result.yaraError, explicit: false });
    }
    const indicators = result.hashes && options.indicators ? options.indicators.match(result.hashes) : [];
    if (result.yara.length === 0 && indicators.length === 0) return;
    counts.filesWithFindings++;
    counts.yaraMatches += result.yara.length;
    counts.indicatorMatches += indicators.length;
    await options.onRecord({
      file: { path: result.path, size: result.size, hash: result.hashes },
      yara: result.yara,
      indicators,
    });
  };

  let nextId = 0;
  try {
    await pool.start();
    for (;;) {
      if (queueHead < queue.length) {
        const entry = queue[queueHead++];
        if (queueHead > 4096 && queueHead * 2 > queue.length) {
          queue.splice(0, queueHead);
          queueHead = 0;
        }
        wake.producer?.();
        wake.producer = null;
        await pool.submit({ id: nextId++, path: entry.path });
        await emitReady();
        progress();
        continue;
      }
      if (walkDone) break;
      await new Promise<void>((r) => (wake.consumer = r));
      wake.consumer = null;
    }
    await pool.drain();
    await emitReady();
    progress();
  } finally {
    aborted = true;
    wake.producer?.();
    await pool.close();
    await walker;
  }
  if (walkError) throw walkError;
  return { ...counts, inputs: options.paths.length, elapsedMs: performance.now() - started };
}
