/**
 * Walking the inputs of `quarry scan`: files and folders, recursively, in name order (so output order does
 * not depend on the file system). Symbolic links are followed; every folder is remembered by device and
 * inode, so a link back up the tree (or two paths to one folder) is walked once and never loops. Only
 * regular files are yielded: devices, sockets and FIFOs are skipped without being opened (opening a FIFO
 * blocks). Unreadable paths are reported through `onIssue` and skipped, never thrown.
 */
import type { Dirent, Stats } from "node:fs";
import { lstat, opendir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CompiledGlob } from "./glob.js";

export interface WalkEntry {
  readonly path: string;
  readonly size: number;
}

export type WalkIssueKind =
  /** A path that does not exist or cannot be stat'ed / listed / opened. */
  | "unreadable"
  /** A device, socket or FIFO. */
  | "special"
  /** A folder already walked (a symlink loop or a second path to it). */
  | "loop";

export interface WalkIssue {
  readonly path: string;
  readonly kind: WalkIssueKind;
  readonly message: string;
  /** The path was named on the command line (not found under a folder). */
  readonly explicit: boolean;
}

export interface WalkOptions {
  readonly exclude?: readonly CompiledGlob[];
  readonly onIssue?: (issue: WalkIssue) => void;
  /** How deep folders may nest before the walk stops descending (hostile trees). */
  readonly maxDepth?: number;
}

export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "ENOTDIR":
      return "not a directory";
    default:
      return e?.message ?? String(error);
  }
}

function specialKind(st: Stats): string | null {
  if (st.isFIFO()) return "FIFO";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "character device";
  if (st.isBlockDevice()) return "block device";
  return null;
}

const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Yield every regular file under the inputs, in order. */
export async function* walkInputs(
  inputs: readonly string[],
  options: WalkOptions = {},
): AsyncGenerator<WalkEntry> {
  const exclude = options.exclude ?? [];
  const report = options.onIssue ?? (() => {});
  const maxDepth = options.maxDepth ?? 256;
  const seenDirs = new Set<string>();
  const excluded = (path: string) => exclude.some((g) => g.matches(path));

  async function* walkDir(
    dir: string,
    st: Stats,
    depth: number,
    explicit: boolean,
  ): AsyncGenerator<WalkEntry> {
    const key = `${st.dev}:${st.ino}`;
    if (seenDirs.has(key)) {
      report({
        path: dir,
        kind: "loop",
        message: "folder already walked (symbolic link loop or second path)",
        explicit,
      });
      return;
    }
    seenDirs.add(key);
    if (depth > maxDepth) {
      report({
        path: dir,
        kind: "unreadable",
        message: `nested more than ${maxDepth} folders deep`,
        explicit,
      });
      return;
    }
    const entries: Dirent[] = [];
    try {
      const handle = await opendir(dir);
      for await (const entry of handle) entries.push(entry);
    } catch (error) {
      report({ path: dir, kind: "unreadable", message: describeFsError(error), explicit });
      return;
    }
    entries.sort(byName);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (excluded(path)) continue;
      if (entry.isFile()) {
        let s: Stats;
        try {
          s = await lstat(path);
        } catch (error) {
          report({ path, kind: "unreadable", message: describeFsError(error), explicit: false });
          continue;
        }
        if (s.isFile()) yield { path, size: s.size };
        continue;
      }
      if (entry.isDirectory() && !entry.isSymbolicLink()) {
        let s: Stats;
        try {
          s = await lstat(path);
        } catch (error) {
          report({ path, kind: "unreadable", message: describeFsError(error), explicit: false });
          continue;
        }
        yield* walkDir(path, s, depth + 1, false);
        continue;
      }
      yield* visit(path, depth + 1, false);
    }
  }

  /** A path whose type is not yet known: a symlink, a special file, or an explicit input. */
  async function* visit(path: string, depth: number, explicit: boolean): AsyncGenerator<WalkEntry> {
    let st: Stats;
    try {
      st = await stat(path);
    } catch (error) {
      // A dangling link is reported like any unreadable path.
      let message = describeFsError(error);
      try {
        const l = await lstat(path);
        if (l.isSymbolicLink() && (error as NodeJS.ErrnoException).code === "ENOENT")
          message = "dangling symbolic link";
      } catch {
        // keep the first message
      }
      report({ path, kind: "unreadable", message, explicit });
      return;
    }
    if (st.isDirectory()) {
      yield* walkDir(path, st, depth, explicit);
      return;
    }
    if (st.isFile()) {
      yield { path, size: st.size };
      return;
    }
    const kind = specialKind(st) ?? "not a regular file";
    report({ path, kind: "special", message: `skipped: ${kind}`, explicit });
  }

  for (const input of inputs) {
    yield* visit(input, 0, true);
  }
}
