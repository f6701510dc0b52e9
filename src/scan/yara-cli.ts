/**
 * The fallback YARA engine: a system `yara` command-line program (YARA 4.x), used where the pinned YARA-X
 * binding is not available (any platform but Linux x64, or the binding missing or of another version), or
 * when `QUARRY_YARA_ENGINE=yara` asks for it. It implements the same `YaraEngine` interface as the binding,
 * so rule checking, namespaces, error reporting and the per-file records are the same code paths:
 *
 * - checking a file: `yarac [-d NAME=VALUE]... NAMESPACE:FILE OUT` (errors and warnings parsed from its
 *   `error: rule "R" in FILE(LINE): message` lines; YARA 4 reports no column);
 * - compiling: `yarac` once for every good file, each in its namespace, into a temporary `.yarc` that every
 *   worker thread uses (no recompilation per file); without `yarac`, each scan passes the source files;
 * - scanning one file: `yara -w -s -L -e -g -m -C RULES /dev/fd/3` with the file the worker already opened
 *   handed to the child as descriptor 3 (no second path lookup, no race with a file swapped for a FIFO),
 *   and its output parsed into the same match records (rule, namespace, tags, meta, pattern offsets and
 *   lengths). Matched bytes are still sliced from the file by offset and length.
 *
 * Costs and limits, documented in docs/scan.md: one process per file (a few milliseconds each); YARA 4
 * prints match lengths capped at 512 bytes (its `max_match_data`); `-d` cannot define a string that reads
 * as a number or boolean (it is refused with a clear message).
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import type {
  YaraCompileOptions,
  YaraDefineValue,
  YaraEngine,
  YaraMessage,
  YaraMetaValue,
  YaraPatternMatch,
  YaraRuleMatch,
  YaraRules,
  YaraSource,
} from "./yara.js";
import { YaraCompileError } from "./yara.js";

/** Serialized CLI rule sets start with this, so a worker knows which engine a blob is for. */
export const YARA_CLI_BLOB_MAGIC = "QUARRY-YARA-CLI\n";

/** What a worker needs to scan with the CLI: the programs, and compiled rules or the sources. */
interface CliRuleSet {
  readonly yara: string;
  /** A `.yarc` made by yarac, or null when yarac is missing (then `sources` are compiled per scan). */
  readonly compiled: string | null;
  readonly sources: readonly { readonly path: string; readonly namespace: string }[];
  readonly defineArgs: readonly string[];
}

const MAX_OUTPUT = 256 * 1024 * 1024;

/** Find an executable on PATH (with `.exe` on Windows); null when absent. */
export function findOnPath(name: string): string | null {
  const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const n of names) {
      const candidate = join(dir, n);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** `yara --version` (e.g. `4.2.3`), or null when it does not run. */
export function yaraCliVersion(yara: string): string | null {
  const r = spawnSync(yara, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

let scratchDir: string | null = null;
let scratchCounter = 0;

/** A per-process temporary folder for compiled rules and unnamed sources, removed at exit. */
function scratchPath(name: string): string {
  if (scratchDir === null) {
    scratchDir = mkdtempSync(join(tmpdir(), "quarry-yara-"));
    const dir = scratchDir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  scratchCounter++;
  return join(scratchDir, `${scratchCounter}-${name}`);
}

/**
 * `-d` arguments. YARA 4 types the value itself (`true`/`false` boolean, digits integer, a decimal point
 * float, anything else a string), so a string value that would read as another type cannot be passed:
 * refused here rather than silently changing the rule's meaning.
 */
function defineArgs(defines: Readonly<Record<string, YaraDefineValue>> | undefined): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(defines ?? {})) {
    if (typeof value === "string") {
      if (
        /^(true|false)$/.test(value) ||
        /^-?(\d+|0x[0-9a-fA-F]+|\d*\.\d+|\d+\.\d*)$/.test(value) ||
        value.startsWith('"')
      ) {
        throw new YaraCompileError([
          {
            code: "define",
            title: `--define ${name}=${value}: the yara program reads this value as a number or boolean, not a string (YARA-X does not have this limit)`,
            detail: "",
            report: "",
          },
        ]);
      }
    }
    args.push("-d", `${name}=${String(value)}`);
  }
  return args;
}

/**
 * `yarac` diagnostics: `error: rule "R" in FILE(LINE): message`, `warning: FILE(LINE): message`, or a bare
 * `error: ...`. The line is kept when positive (YARA reports 0 for an error at the end of the file).
 */
export function parseYaracLine(text: string): { severity: "error" | "warning"; message: YaraMessage } | null {
  const m = /^(error|warning): (?:rule "[^"]*" in )?(.*)\((\d+)\): (.*)$/.exec(text);
  if (m) {
    const line = Number(m[3]);
    return {
      severity: m[1] as "error" | "warning",
      message: {
        code: "yara",
        title: m[4],
        detail: "",
        report: text,
        includedFile: m[2],
        line: line > 0 ? line : undefined,
        column: line > 0 ? 1 : undefined,
      },
    };
  }
  const bare = /^(error|warning): (.*)$/.exec(text);
  if (bare) {
    return {
      severity: bare[1] as "error" | "warning",
      message: { code: "yara", title: bare[2], detail: "", report: text },
    };
  }
  return null;
}

function runYarac(
  yarac: string,
  defines: readonly string[],
  inputs: readonly { path: string; namespace?: string }[],
  out: string,
): { ok: boolean; errors: YaraMessage[]; warnings: YaraMessage[] } {
  const args = [...defines, ...inputs.map((i) => (i.namespace ? `${i.namespace}:${i.path}` : i.path)), out];
  const r = spawnSync(yarac, args, { encoding: "utf8", maxBuffer: MAX_OUTPUT });
  const errors: YaraMessage[] = [];
  const warnings: YaraMessage[] = [];
  for (const line of `${r.stderr ?? ""}\n${r.stdout ?? ""}`.split("\n")) {
    const parsed = parseYaracLine(line.trimEnd());
    if (!parsed) continue;
    // Messages about a file are relative to it; `includedFile` is cleared when it is the file itself.
    const only = inputs.length === 1 ? inputs[0].path : undefined;
    const message =
      parsed.message.includedFile !== undefined && parsed.message.includedFile === only
        ? { ...parsed.message, includedFile: undefined }
        : parsed.message;
    (parsed.severity === "error" ? errors : warnings).push(message);
  }
  if (r.error)
    errors.push({ code: "yara", title: `cannot run ${yarac}: ${r.error.message}`, detail: "", report: "" });
  else if (r.status !== 0 && errors.length === 0) {
    errors.push({
      code: "yara",
      title: `${yarac} exited with ${r.status ?? r.signal}: ${(r.stderr ?? "").trim().slice(0, 500)}`,
      detail: "",
      report: r.stderr ?? "",
    });
  }
  return { ok: r.status === 0 && errors.length === 0, errors, warnings };
}

/** The source's own file when it has one, else a temporary copy (`include` then resolves from there). */
function sourceFile(source: string, path: string | undefined): string {
  if (path !== undefined) return path;
  const temp = scratchPath("source.yar");
  writeFileSync(temp, source);
  return temp;
}

/** The YARA 4 command-line engine; `yara` is the program's path, `yarac` its compiler's (or null). */
export function makeYaraCliEngine(yara: string, yarac: string | null, version: string): YaraEngine {
  const compiler = yarac;
  return {
    kind: "yara",
    bindingVersion: version,
    description: `yara ${version} (${yara})`,
    validate(source: string, options?: YaraCompileOptions) {
      let defines: string[];
      try {
        defines = defineArgs(options?.defines);
      } catch (error) {
        if (error instanceof YaraCompileError) return { errors: [...error.messages], warnings: [] };
        throw error;
      }
      const path = sourceFile(source, options?.sourcePath);
      if (compiler === null) {
        // No compiler: a scan of an empty file compiles the rules and reports the same diagnostics.
        const empty = scratchPath("empty");
        writeFileSync(empty, "");
        return runYarac(yara, defines, [{ path, namespace: options?.namespace }], empty);
      }
      return runYarac(
        compiler,
        defines,
        [{ path, namespace: options?.namespace }],
        scratchPath("check.yarc"),
      );
    },
    compile(sources: readonly YaraSource[], options?: Omit<YaraCompileOptions, "namespace">) {
      const defines = defineArgs(options?.defines);
      const inputs = sources.map((s) => ({ path: sourceFile(s.source, s.path), namespace: s.namespace }));
      let compiled: string | null = null;
      if (compiler !== null) {
        compiled = scratchPath("rules.yarc");
        const r = runYarac(compiler, defines, inputs, compiled);
        if (!r.ok) throw new YaraCompileError(r.errors);
      }
      return cliRules({ yara, compiled, sources: inputs, defineArgs: defines }, []);
    },
    deserialize(blob: Uint8Array) {
      return deserializeCliRules(blob);
    },
  };
}

/** Turn a blob made by `serialize()` of CLI rules back into rules (in a worker thread). */
export function deserializeCliRules(blob: Uint8Array): YaraRules {
  const text = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString("utf8");
  if (!text.startsWith(YARA_CLI_BLOB_MAGIC)) throw new Error("not a yara CLI rule set");
  return cliRules(JSON.parse(text.slice(YARA_CLI_BLOB_MAGIC.length)) as CliRuleSet, []);
}

export function isCliRulesBlob(blob: Uint8Array): boolean {
  const magic = Buffer.from(YARA_CLI_BLOB_MAGIC, "utf8");
  if (blob.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (blob[i] !== magic[i]) return false;
  return true;
}

function cliRules(set: CliRuleSet, warnings: readonly YaraMessage[]): YaraRules {
  let timeoutSeconds = 0;
  const ruleArgs =
    set.compiled !== null
      ? ["-C", set.compiled]
      : [...set.defineArgs, ...set.sources.map((s) => `${s.namespace}:${s.path}`)];
  const scanTarget = (target: string, fd: number | null): YaraRuleMatch[] => {
    const args = ["-w", "-s", "-L", "-e", "-g", "-m"];
    if (timeoutSeconds > 0) args.push("-a", String(timeoutSeconds));
    args.push(...ruleArgs, target);
    const r = spawnSync(set.yara, args, {
      encoding: "utf8",
      maxBuffer: MAX_OUTPUT,
      stdio: fd === null ? ["ignore", "pipe", "pipe"] : ["ignore", "pipe", "pipe", fd],
    });
    if (r.error) throw new Error(`yara: ${r.error.message}`);
    if (r.status !== 0) {
      const why = (r.stderr ?? "").trim().split("\n").filter(Boolean).pop() ?? `exit ${r.status ?? r.signal}`;
      throw new Error(`yara: ${why}`);
    }
    return parseYaraOutput(r.stdout ?? "", target);
  };
  return {
    warnings,
    needsFile: true,
    scan(data: Uint8Array) {
      const temp = scratchPath("data.bin");
      writeFileSync(temp, data);
      try {
        return scanTarget(temp, null);
      } finally {
        rmSync(temp, { force: true });
      }
    },
    scanFile: (path: string) => scanTarget(path, null),
    scanFd: (fd: number, path: string) =>
      process.platform === "win32" ? scanTarget(path, null) : scanTarget("/dev/fd/3", fd),
    serialize: () => Buffer.from(YARA_CLI_BLOB_MAGIC + JSON.stringify(set), "utf8"),
    // yara reports every match; Quarry lists at most the configured number per pattern anyway.
    setMaxMatchesPerPattern: () => {},
    setTimeoutMs: (ms: number) => {
      timeoutSeconds = Math.max(1, Math.ceil(ms / 1000));
    },
  };
}

/**
 * Parse `yara -s -L -e -g -m` output for one target:
 *
 *     namespace:rule [tag1,tag2] [key="text",n =5,b=true] TARGET
 *     0x1f:8:$marker: <data>
 */
export function parseYaraOutput(stdout: string, target: string): YaraRuleMatch[] {
  const out: {
    rule: string;
    namespace: string;
    tags: string[];
    meta: Record<string, YaraMetaValue>;
    matches: YaraPatternMatch[];
  }[] = [];
  const suffix = ` ${target}`;
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const string = /^0x([0-9a-fA-F]+):(\d+):(\$[A-Za-z0-9_]*)(?::|$)/.exec(line);
    if (string && out.length > 0) {
      out[out.length - 1].matches.push({
        identifier: string[3],
        offset: Number.parseInt(string[1], 16),
        length: Number(string[2]),
      });
      continue;
    }
    if (!line.endsWith(suffix)) continue;
    const head = line.slice(0, -suffix.length);
    const m = /^([^:\s]+):(\S+) \[([^\]]*)\] \[(.*)\]$/.exec(head);
    if (!m) continue;
    out.push({
      namespace: m[1],
      rule: m[2],
      tags: m[3] === "" ? [] : m[3].split(","),
      meta: parseMeta(m[4]),
      matches: [],
    });
  }
  return out;
}

/** `key="escaped text",n =5,b=true` (YARA 4 escapes `\"`, `\\`, `\t`, `\n`, `\r` and octal `\NNN`). */
export function parseMeta(text: string): Record<string, YaraMetaValue> {
  const meta: Record<string, YaraMetaValue> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) break;
    const key = text.slice(i, eq).trim();
    i = eq + 1;
    if (text[i] === '"') {
      i++;
      const bytes: number[] = [];
      while (i < text.length && text[i] !== '"') {
        const c = text[i];
        if (c === "\\" && i + 1 < text.length) {
          const n = text[i + 1];
          const octal = /^[0-7]{3}/.exec(text.slice(i + 1, i + 4));
          const hex = /^x([0-9a-fA-F]{2})/.exec(text.slice(i + 1, i + 4));
          if (octal) {
            bytes.push(Number.parseInt(octal[0], 8) & 0xff);
            i += 4;
          } else if (hex) {
            bytes.push(Number.parseInt(hex[1], 16));
            i += 4;
          } else {
            bytes.push(({ n: 10, t: 9, r: 13 } as Record<string, number>)[n] ?? n.charCodeAt(0));
            i += 2;
          }
          continue;
        }
        bytes.push(...Buffer.from(c, "utf8"));
        i++;
      }
      i++; // closing quote
      // As the YARA-X binding does: a value that is not valid UTF-8 comes through as "unknown".
      let value: string;
      try {
        value = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
      } catch {
        value = "unknown";
      }
      meta[key] = value;
    } else {
      let end = text.indexOf(",", i);
      if (end < 0) end = text.length;
      const raw = text.slice(i, end).trim();
      i = end;
      meta[key] = raw === "true" ? true : raw === "false" ? false : Number(raw);
    }
    if (text[i] === ",") i++;
  }
  return meta;
}

/** yarac next to the yara program (as packages install them), else on PATH. */
export function findYarac(yara: string): string | null {
  const sibling = join(dirname(yara), process.platform === "win32" ? "yarac.exe" : "yarac");
  try {
    accessSync(sibling, constants.X_OK);
    return sibling;
  } catch {
    return findOnPath("yarac");
  }
}
