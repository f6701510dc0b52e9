/**
 * `--extract DIR`: decoded stages and embedded PEs are written as `DIR/<sha256>`, mode 0644 (never
 * executable), and never over a different file. The bytes go to a private temporary file first and
 * are then hard-linked into place, which fails atomically if the name exists; an existing file with
 * the same content counts as success, one with different content (or a non-file) is an error.
 */
import { randomBytes } from "node:crypto";
import { chmod, link, lstat, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256Hex } from "./bytes.js";

/** Bytes a decoder produced, for `--extract`. */
export interface ExtractedPayload {
  readonly role: "stage" | "embedded-pe";
  readonly sha256: string;
  readonly bytes: Uint8Array;
}

export type WriteOutcome = { readonly path: string } | { readonly error: string };

const FILE_MODE = 0o644;

export async function writePayload(dir: string, payload: ExtractedPayload): Promise<WriteOutcome> {
  const target = join(dir, payload.sha256);
  try {
    await mkdir(dir, { recursive: true });
    const existing = await compareExisting(target, payload);
    if (existing) return existing;
    const temporary = join(dir, `.${payload.sha256}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    await writeFile(temporary, payload.bytes, { flag: "wx", mode: FILE_MODE });
    try {
      // The umask may have narrowed the mode; 0644 is what the contract promises.
      await chmod(temporary, FILE_MODE);
      try {
        await link(temporary, target);
      } catch (error) {
        if (errorCode(error) === "EEXIST") return (await compareExisting(target, payload)) ?? raced(target);
        if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "EXDEV", "ENOSYS"].includes(errorCode(error) ?? ""))
          throw error;
        // No hard links on this filesystem: exclusive create still never replaces an existing file.
        await writeFile(target, payload.bytes, { flag: "wx", mode: FILE_MODE });
        await chmod(target, FILE_MODE);
      }
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    return { path: target };
  } catch (error) {
    return { error: `cannot write ${target}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** null when `target` does not exist; otherwise success (same bytes) or an error (different). */
async function compareExisting(target: string, payload: ExtractedPayload): Promise<WriteOutcome | null> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(target);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return null;
    throw error;
  }
  if (!stats.isFile())
    return { error: `refusing to overwrite ${target}: it exists and is not a regular file` };
  if (stats.size === payload.bytes.length && sha256Hex(await readFile(target)) === payload.sha256) {
    return { path: target };
  }
  return { error: `refusing to overwrite ${target}: it exists with different content` };
}

function raced(target: string): WriteOutcome {
  return { error: `cannot write ${target}: it appeared and vanished while writing` };
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}
