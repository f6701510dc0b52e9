/**
 * Sources: expand the user's inputs (files, directories, `-`) into a list of inputs, and open each as a
 * stream of byte chunks, gunzipping when the content starts with the gzip magic (content, not extension).
 */
import { createReadStream, type Dirent } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createGunzip } from "node:zlib";

export interface InputSource {
  /** The path as given (or as found under a directory given), or `-` for stdin. */
  readonly path: string;
}

export interface ExpandOptions {
  /** Globs a file found under a directory must match (default: event-file extensions). */
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

const DEFAULT_INCLUDE = ["*.json", "*.ndjson", "*.jsonl", "*.json.gz", "*.ndjson.gz", "*.jsonl.gz", "*.gz"];

/** Translate a shell glob (`*`, `?`, `**`, `[...]`) to an anchored RegExp over `/`-separated paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += ".*";
        i++;
        if (glob[i + 1] === "/") i++;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 1);
      if (close < 0) re += "\\[";
      else {
        re += `[${glob
          .slice(i + 1, close)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function matchesAny(path: string, patterns: readonly RegExp[]): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return patterns.some((p) => p.test(base) || p.test(path));
}

export interface ExpandResult {
  readonly sources: InputSource[];
  readonly errors: { path: string; message: string }[];
}

/**
 * Expand inputs: explicit files are always read (whatever their name); directories are walked
 * recursively (no symlink loops: directories are tracked by device and inode) and their files filtered by
 * `include`/`exclude`. Unreadable paths become errors, never exceptions.
 */
export async function expandInputs(
  inputs: readonly string[],
  options: ExpandOptions = {},
): Promise<ExpandResult> {
  const include = (options.include?.length ? options.include : DEFAULT_INCLUDE).map(globToRegExp);
  const exclude = (options.exclude ?? []).map(globToRegExp);
  const sources: InputSource[] = [];
  const errors: { path: string; message: string }[] = [];
  const seenDirs = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      const st = await stat(dir);
      const key = `${st.dev}:${st.ino}`;
      if (seenDirs.has(key)) return;
      seenDirs.add(key);
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      errors.push({ path: dir, message: describeFsError(error) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(path);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch (error) {
          errors.push({ path, message: describeFsError(error) });
          continue;
        }
      }
      if (isDir) await walk(path);
      else if (isFile && matchesAny(path, include) && !matchesAny(path, exclude)) sources.push({ path });
    }
  };
  for (const input of inputs) {
    if (input === "-") {
      sources.push({ path: "-" });
      continue;
    }
    try {
      const st = await lstat(input).then((l) => (l.isSymbolicLink() ? stat(input) : l));
      if (st.isDirectory()) await walk(input);
      else if (matchesAny(input, exclude)) continue;
      else sources.push({ path: input });
    } catch (error) {
      errors.push({ path: input, message: describeFsError(error) });
    }
  }
  return { sources, errors };
}

export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return e?.message ?? String(error);
  }
}

export const READ_CHUNK_BYTES = 1 << 20;

/**
 * Open a source as byte chunks. The first chunk decides: gzip magic (1f 8b) means the rest goes through
 * gunzip. `onCompressedBytes` reports raw bytes read (for progress).
 */
export async function* openChunks(
  source: InputSource,
  onRawBytes?: (n: number) => void,
): AsyncGenerator<Buffer, void, undefined> {
  const raw: NodeJS.ReadableStream =
    source.path === "-" ? process.stdin : createReadStream(source.path, { highWaterMark: READ_CHUNK_BYTES });
  const iterator = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  onRawBytes?.(head.length);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip({ chunkSize: READ_CHUNK_BYTES });
    const feed = (async () => {
      try {
        if (!gunzip.write(head)) await onceDrain(gunzip);
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          onRawBytes?.(next.value.length);
          if (!gunzip.write(next.value)) await onceDrain(gunzip);
        }
        gunzip.end();
      } catch (error) {
        gunzip.destroy(error as Error);
      }
    })();
    yield* gunzip as AsyncIterable<Buffer>;
    await feed;
    return;
  }
  yield head;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    onRawBytes?.(next.value.length);
    yield next.value;
  }
}

function onceDrain(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("error", fail);
      stream.off("close", done);
      resolve();
    };
    const fail = (e: Error) => {
      stream.off("drain", done);
      stream.off("close", done);
      reject(e);
    };
    stream.once("drain", done);
    stream.once("close", done);
    stream.once("error", fail);
  });
}
