/**
 * YARA rule sets: which files (`--yara FILE|DIR`, the pack's `yara/` folder), the external variables
 * (`--define NAME=VALUE`), and compiling them into one rule set. Each file is checked on its own first, so a
 * file that does not compile is reported with its file, line, column and message and left out, while the
 * other files still run. The good files are then compiled together once, each in its own namespace (so two
 * files may define rules of the same name), and the result is serialized for the worker threads.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { loadYaraX, type YaraDefineValue, type YaraEngine, type YaraMessage } from "./yara.js";

export interface RuleFile {
  /** The path as given or found under a folder given. */
  readonly path: string;
  /** Namespace of the file's rules: the file name without extension, made unique. */
  readonly namespace: string;
  /** Where it came from: a pack (`3cx`) or the user (`--yara`). */
  readonly origin: string;
}

/** A rule file that did not compile, or a warning in one that did. */
export interface RuleFileMessage {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly code: string;
  readonly message: string;
  readonly severity: "error" | "warning";
  /** YARA-X's full report (source excerpt with carets). */
  readonly report: string;
}

export interface CompiledRuleSet {
  /** Serialized compiled rules (YARA-X blob); null when no file compiled. */
  readonly blob: Uint8Array | null;
  /** Files whose rules are in the set. */
  readonly files: readonly RuleFile[];
  /** Files left out, with why. */
  readonly failed: readonly RuleFile[];
  readonly errors: readonly RuleFileMessage[];
  readonly warnings: readonly RuleFileMessage[];
}

export const RULE_FILE_EXTENSIONS = [".yar", ".yara"];

export class RuleInputError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "RuleInputError";
  }
}

/**
 * Parse `NAME=VALUE` the way `yara -d` does: `true`/`false` are booleans, decimal integers are integers,
 * a double-quoted value is the string inside the quotes, anything else is a string.
 */
export function parseDefine(text: string): [string, YaraDefineValue] {
  const eq = text.indexOf("=");
  const name = eq < 0 ? "" : text.slice(0, eq).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new RuleInputError(
      `--define expects NAME=VALUE with NAME an identifier, got ${JSON.stringify(text)}`,
      text,
    );
  }
  const value = text.slice(eq + 1);
  if (value === "true") return [name, true];
  if (value === "false") return [name, false];
  if (/^-?\d{1,15}$/.test(value)) return [name, Number(value)];
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return [name, value.slice(1, -1)];
  return [name, value];
}

/**
 * Expand `--yara` arguments: a file is taken whatever its extension; a folder contributes its `.yar` and
 * `.yara` files, recursively, in name order. A path that cannot be read throws `RuleInputError`.
 */
export function expandRulePaths(paths: readonly string[], origin: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    const key = resolve(p);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  };
  const walk = (dir: string, depth: number) => {
    if (depth > 64) return;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (error) {
      throw new RuleInputError(`cannot read rule folder ${dir}: ${(error as Error).message}`, dir);
    }
    for (const name of names) {
      const p = join(dir, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p, depth + 1);
      else if (st.isFile() && RULE_FILE_EXTENSIONS.includes(extname(name).toLowerCase())) add(p);
    }
  };
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new RuleInputError(
        `cannot read ${origin === "user" ? "--yara " : ""}${p}: ${code === "ENOENT" ? "no such file or directory" : (error as Error).message}`,
        p,
      );
    }
    if (st.isDirectory()) walk(p, 0);
    else add(p);
  }
  return out;
}

/** Assign namespaces: the file stem reduced to identifier characters, with `_2`, `_3` for repeats. */
export function assignNamespaces(entries: readonly { path: string; origin: string }[]): RuleFile[] {
  const used = new Map<string, number>();
  return entries.map(({ path, origin }) => {
    let stem = basename(path, extname(path)).replace(/[^A-Za-z0-9_]/g, "_");
    if (!/^[A-Za-z_]/.test(stem)) stem = `_${stem}`;
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    return { path, origin, namespace: n === 1 ? stem : `${stem}_${n}` };
  });
}

/** The first byte offset where `bytes` is not valid UTF-8, or -1. */
function invalidUtf8Offset(bytes: Buffer): number {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return -1;
  } catch {
    // Find it by scanning (only on the error path).
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i];
      const need =
        b < 0x80
          ? 0
          : b >= 0xc2 && b <= 0xdf
            ? 1
            : b >= 0xe0 && b <= 0xef
              ? 2
              : b >= 0xf0 && b <= 0xf4
                ? 3
                : -1;
      if (need < 0) return i;
      for (let k = 1; k <= need; k++) if (i + k >= bytes.length || (bytes[i + k] & 0xc0) !== 0x80) return i;
      if (need > 0) {
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(i, i + need + 1));
        } catch {
          return i;
        }
      }
      i += need + 1;
    }
    return -1;
  }
}

function toFileMessage(file: RuleFile, m: YaraMessage, severity: "error" | "warning"): RuleFileMessage {
  const inFile = m.includedFile ? resolve(dirname(file.path), m.includedFile) : file.path;
  const message = m.detail ? `${m.title}: ${m.detail}` : m.title;
  return { file: inFile, line: m.line, column: m.column, code: m.code, message, severity, report: m.report };
}

/**
 * Check every file on its own, then compile the good ones together once. A file that cannot be read, is
 * not UTF-8, or does not compile is reported in `errors` and left out.
 */
export function compileRuleFiles(
  files: readonly RuleFile[],
  defines: Readonly<Record<string, YaraDefineValue>>,
  engine: YaraEngine = loadYaraX(),
): CompiledRuleSet {
  const errors: RuleFileMessage[] = [];
  const warnings: RuleFileMessage[] = [];
  const good: { file: RuleFile; source: string }[] = [];
  const failed: RuleFile[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file.path);
    } catch (error) {
      errors.push({
        file: file.path,
        code: "read",
        message: `cannot read: ${(error as Error).message}`,
        severity: "error",
        report: "",
      });
      failed.push(file);
      continue;
    }
    const bad = invalidUtf8Offset(bytes);
    if (bad >= 0) {
      const before = bytes.subarray(0, bad);
      let line = 1;
      let lineStart = 0;
      for (let i = 0; i < before.length; i++)
        if (before[i] === 10) {
          line++;
          lineStart = i + 1;
        }
      errors.push({
        file: file.path,
        line,
        column: Buffer.from(before.subarray(lineStart)).toString("utf8").length + 1,
        code: "utf8",
        message: `rule files must be UTF-8: invalid byte 0x${bytes[bad].toString(16).padStart(2, "0")}`,
        severity: "error",
        report: "",
      });
      failed.push(file);
      continue;
    }
    const source = bytes.toString("utf8");
    const result = engine.validate(source, {
      defines,
      includeDirectories: [dirname(file.path)],
      sourcePath: file.path,
    });
    for (const w of result.warnings) warnings.push(toFileMessage(file, w, "warning"));
    if (result.errors.length > 0) {
      for (const e of result.errors) errors.push(toFileMessage(file, e, "error"));
      failed.push(file);
      continue;
    }
    good.push({ file, source });
  }
  if (good.length === 0) return { blob: null, files: [], failed, errors, warnings };
  const includeDirectories = [...new Set(good.map((g) => dirname(g.file.path)))];
  try {
    const rules = engine.compile(
      good.map((g) => ({ source: g.source, namespace: g.file.namespace, path: g.file.path })),
      { defines, includeDirectories },
    );
    return { blob: rules.serialize(), files: good.map((g) => g.file), failed, errors, warnings };
  } catch {
    // Files that compile alone but not together (rare: includes resolved differently). Add them one at a
    // time and keep those that still compile.
    const kept: { file: RuleFile; source: string }[] = [];
    let blob: Uint8Array | null = null;
    for (const g of good) {
      const attempt = [...kept, g];
      try {
        const rules = engine.compile(
          attempt.map((x) => ({ source: x.source, namespace: x.file.namespace, path: x.file.path })),
          { defines, includeDirectories: [...new Set(attempt.map((x) => dirname(x.file.path)))] },
        );
        blob = rules.serialize();
        kept.push(g);
      } catch (error) {
        const messages = (error as { messages?: readonly YaraMessage[] }).messages ?? [];
        for (const m of messages) errors.push(toFileMessage(g.file, m, "error"));
        if (messages.length === 0) {
          errors.push({ file: g.file.path, code: "", message: String(error), severity: "error", report: "" });
        }
        failed.push(g.file);
      }
    }
    return { blob, files: kept.map((k) => k.file), failed, errors, warnings };
  }
}

/** `file:line:column: error[CODE]: message`, the one-line form printed on stderr. */
export function formatRuleFileMessage(m: RuleFileMessage): string {
  const where = m.line !== undefined ? `${m.file}:${m.line}:${m.column ?? 1}` : m.file;
  return `${where}: ${m.severity}${m.code ? `[${m.code}]` : ""}: ${m.message}`;
}
