/**
 * Scanning one file: open it (never following it into a FIFO or device), read it once, hash the bytes and
 * YARA-scan the same buffer. Runs inside a worker thread (see worker.ts); usable on the main thread too.
 *
 * Why read into a buffer and call the synchronous `scan`: the binding's async scan copies the buffer and
 * is slower; the synchronous call reads our buffer in place, and the worker pool gives the parallelism.
 * Matched bytes are sliced from our buffer by offset and length, because the binding's `data` field is a
 * lossy UTF-8 decoding of them.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { hashBytes, hashFd } from "./hash.js";
import type { FileResult, ScanTask, WorkerConfig, YaraFinding, YaraStringHit } from "./protocol.js";
import { describeFsError } from "./walk.js";
import { deserializeRules, type YaraRuleMatch, type YaraRules } from "./yara.js";

/**
 * Files up to this size are read into one reused buffer; larger ones get their own allocation. Reuse
 * matters more than it seems: first-touching fresh memory costs page faults (measured ~300 ms per 64 MiB
 * on the bench VM, 60x the cost of the read itself), and so does letting YARA-X memory-map each file,
 * which is why even `--no-hashes` reads files rather than calling `scanFile`.
 */
const REUSED_BUFFER_LIMIT = 64 << 20;
const STREAM_CHUNK = 4 << 20;

export class FileScanner {
  private readonly rules: YaraRules | null;
  private scratch: Buffer = Buffer.allocUnsafe(64 << 10);
  private streamScratch: Buffer | null = null;

  constructor(private readonly config: WorkerConfig) {
    if (config.rules) {
      this.rules = deserializeRules(config.rules);
      if (config.timeoutSeconds > 0) this.rules.setTimeoutMs(config.timeoutSeconds * 1000);
    } else this.rules = null;
  }

  scan(task: ScanTask): FileResult {
    let fd: number;
    try {
      // O_NONBLOCK: if the path became a FIFO after the walk saw a regular file, open must not hang.
      fd = openSync(task.path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      return { id: task.id, ok: false, path: task.path, error: describeFsError(error) };
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { id: task.id, ok: false, path: task.path, error: "not a regular file" };
      if (this.rules?.needsFile && !this.config.hashes && st.size <= this.config.maxSize)
        return this.scanByFile(task, fd, st.size);
      if (st.size <= this.config.maxSize) return this.scanSmall(task, fd, st.size);
      return this.scanLarge(task, fd);
    } catch (error) {
      return { id: task.id, ok: false, path: task.path, error: describeFsError(error) };
    } finally {
      closeSync(fd);
    }
  }

  private scanSmall(task: ScanTask, fd: number, size: number): FileResult {
    let buffer: Buffer;
    if (size <= REUSED_BUFFER_LIMIT) {
      if (this.scratch.length < size)
        this.scratch = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
      buffer = this.scratch;
    } else buffer = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    const data = buffer.subarray(0, read);
    const hashes = this.config.hashes ? hashBytes(data) : null;
    let yara: YaraFinding[] = [];
    let yaraError: string | null = null;
    if (this.rules) {
      try {
        // The yara program reads the open file itself; offsets are the same as in `data`.
        const matches = this.rules.needsFile ? this.rules.scanFd(fd, task.path) : this.rules.scan(data);
        yara = this.toFindings(matches, (offset, length) => data.subarray(offset, offset + length));
      } catch (error) {
        yaraError = (error as Error).message;
      }
    }
    return {
      id: task.id,
      ok: true,
      path: task.path,
      size: read,
      hashes,
      yara,
      yaraSkipped: this.rules ? null : "no-rules",
      yaraError,
    };
  }

  /**
   * The yara program engine without hashing: the program reads the file, so Quarry reads only the matched
   * bytes back (positioned reads) instead of the whole file.
   */
  private scanByFile(task: ScanTask, fd: number, size: number): FileResult {
    let yara: YaraFinding[] = [];
    let yaraError: string | null = null;
    if (this.rules) {
      try {
        yara = this.toFindings(this.rules.scanFd(fd, task.path), (offset, length) =>
          preadBytes(fd, offset, length),
        );
      } catch (error) {
        yaraError = (error as Error).message;
      }
    }
    return { id: task.id, ok: true, path: task.path, size, hashes: null, yara, yaraSkipped: null, yaraError };
  }

  private scanLarge(task: ScanTask, fd: number): FileResult {
    let hashes = null;
    let size = fstatSync(fd).size;
    if (this.config.hashes) {
      this.streamScratch ??= Buffer.allocUnsafe(STREAM_CHUNK);
      const r = hashFd(fd, this.streamScratch);
      hashes = r.hashes;
      size = r.bytes;
    }
    let yara: YaraFinding[] = [];
    let yaraError: string | null = null;
    let yaraSkipped: "too-large" | "no-rules" | null = this.rules ? "too-large" : "no-rules";
    if (this.rules && this.config.scanLarge) {
      yaraSkipped = null;
      try {
        // YARA-X maps the file; matched bytes are read back with positioned reads.
        const matches = this.rules.needsFile
          ? this.rules.scanFd(fd, task.path)
          : this.rules.scanFile(task.path);
        yara = this.toFindings(matches, (offset, length) => preadBytes(fd, offset, length));
      } catch (error) {
        yaraError = (error as Error).message;
      }
    }
    return { id: task.id, ok: true, path: task.path, size, hashes, yara, yaraSkipped, yaraError };
  }

  private toFindings(
    matches: YaraRuleMatch[],
    bytesAt: (offset: number, length: number) => Uint8Array,
  ): YaraFinding[] {
    const { maxStringsPerPattern, maxHexBytes } = this.config;
    const findings = matches.map((m) => {
      const perPattern = new Map<string, number>();
      const strings: YaraStringHit[] = [];
      for (const s of m.matches) {
        const n = (perPattern.get(s.identifier) ?? 0) + 1;
        perPattern.set(s.identifier, n);
        if (n > maxStringsPerPattern) continue;
        const shown = bytesAt(s.offset, Math.min(s.length, maxHexBytes));
        const hex = Buffer.from(shown.buffer, shown.byteOffset, shown.byteLength).toString("hex");
        strings.push({ id: s.identifier, offset: s.offset, length: s.length, hex });
      }
      strings.sort((a, b) => a.offset - b.offset || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return { rule: m.rule, namespace: m.namespace, tags: [...m.tags], meta: { ...m.meta }, strings };
    });
    // Engines list matching rules in different orders (YARA-X puts rules without patterns first; yara
    // keeps declaration order): sort, so a record is the same whichever engine ran.
    const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return findings.sort((a, b) => byName(a.namespace, b.namespace) || byName(a.rule, b.rule));
  }
}

/** Matched bytes of a mapped scan, read back with a positioned read. */
function preadBytes(fd: number, offset: number, length: number): Uint8Array {
  const out = Buffer.allocUnsafe(length);
  const n = readSync(fd, out, 0, length, offset);
  return out.subarray(0, n);
}
