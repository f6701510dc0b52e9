/**
 * A small typed wrapper around the YARA-X native binding of the `@litko/yara-x` project.
 *
 * Why not depend on `@litko/yara-x` itself: its type declarations (0.3.0) do not describe the binary we run
 * (the Linux x64 binding 0.7.2, built on yara-x 1.20, which package.json pins as an optional dependency): methods such as
 * `serialize`, `deserialize`, `addRuleSources`, `setTimeout` and the `namespace` compiler option are
 * missing, and compiler errors carry no `line`/`column` fields (the location is only inside the rendered
 * message). Its loader would also silently fall back to an older binary elsewhere. So this module loads the
 * platform package directly, checks its version, and exposes only what Quarry uses, with honest types.
 *
 * Platform support: only `linux`/`x64` (glibc) has the pinned binary. Anywhere else (or when the binding is
 * missing or of another version) `loadYaraX()` falls back to a system `yara` program found on PATH (see
 * yara-cli.ts), saying so once on stderr; with neither it throws `YaraUnavailableError` with a clear
 * message (hash sweeps still work without YARA). `QUARRY_YARA_ENGINE=yara-x|yara` forces one engine.
 */
import { createRequire } from "node:module";
import { isMainThread } from "node:worker_threads";
import {
  deserializeCliRules,
  findOnPath,
  findYarac,
  isCliRulesBlob,
  makeYaraCliEngine,
  yaraCliVersion,
} from "./yara-cli.js";

/** The binding version Quarry is tested with (the default 0.3.0 binary is slow and mis-reports booleans). */
export const PINNED_BINDING_VERSION = "0.7.2";
const BINDING_PACKAGE = "@litko/yara-x-linux-x64-gnu";

export type YaraDefineValue = string | number | boolean;
export type YaraMetaValue = string | number | boolean;

export interface YaraCompileOptions {
  /** External variables (`-d NAME=VALUE`), needed by rules that reference them, e.g. `extension`. */
  readonly defines?: Readonly<Record<string, YaraDefineValue>>;
  /** Namespace of the rules; rules in different namespaces may share names. */
  readonly namespace?: string;
  /** Directories searched by `include` statements (the rule file's own folder). */
  readonly includeDirectories?: readonly string[];
  /** The file the source was read from (the yara CLI engine compiles the file itself). */
  readonly sourcePath?: string;
}

/** One compiler error or warning, with its location parsed out of the rendered report. */
export interface YaraMessage {
  /** `E001`, `invariant_expr`, ... */
  readonly code: string;
  /** The first line of the report, e.g. `syntax error`. */
  readonly title: string;
  /** What the primary label says, e.g. "expecting expression or identifier, found `}`". */
  readonly detail: string;
  /** The full report as YARA-X renders it (source excerpt with carets). */
  readonly report: string;
  /** The included file the location is in, when it is not the compiled source itself. */
  readonly includedFile?: string;
  readonly line?: number;
  readonly column?: number;
}

export interface YaraPatternMatch {
  /** The pattern identifier, `$a`. */
  readonly identifier: string;
  readonly offset: number;
  readonly length: number;
}

export interface YaraRuleMatch {
  readonly rule: string;
  readonly namespace: string;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, YaraMetaValue>>;
  readonly matches: readonly YaraPatternMatch[];
}

/** Compiled rules, usable from the thread that created (or deserialized) them. */
export interface YaraRules {
  /** Scan bytes synchronously (no copy: the buffer is read in place). Offsets are relative to `data`. */
  scan(data: Uint8Array): YaraRuleMatch[];
  /** Scan a file by path (YARA-X maps it into memory); for files too large to read into a buffer. */
  scanFile(path: string): YaraRuleMatch[];
  /** A portable blob another thread turns back into rules with `deserialize` (no recompilation). */
  serialize(): Buffer;
  readonly warnings: readonly YaraMessage[];
  setMaxMatchesPerPattern(n: number): void;
  setTimeoutMs(ms: number): void;
  /** True when scanning reads the file itself (the yara CLI): call `scanFd` rather than `scan`. */
  readonly needsFile: boolean;
  /** Scan an open regular file (descriptor `fd`, reported as `path`); offsets are file offsets. */
  scanFd(fd: number, path: string): YaraRuleMatch[];
}

export interface YaraSource {
  readonly source: string;
  readonly namespace: string;
  /** The file the source was read from, when it was (the yara CLI engine compiles files). */
  readonly path?: string;
}

export interface YaraEngine {
  /** `yara-x`: the pinned binding; `yara`: the system yara program (fallback). */
  readonly kind: "yara-x" | "yara";
  /** The binding package version (always `PINNED_BINDING_VERSION`), or the yara program's version. */
  readonly bindingVersion: string;
  /** For notices: `YARA-X binding 0.7.2`, `yara 4.2.3 (/usr/bin/yara)`. */
  readonly description: string;
  /** Check a source without building rules: every error and warning. */
  validate(source: string, options?: YaraCompileOptions): { errors: YaraMessage[]; warnings: YaraMessage[] };
  /** Compile sources (each in its namespace) into one rule set; throws `YaraCompileError`. */
  compile(sources: readonly YaraSource[], options?: Omit<YaraCompileOptions, "namespace">): YaraRules;
  deserialize(blob: Uint8Array): YaraRules;
}

export class YaraUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "YaraUnavailableError";
  }
}

export class YaraCompileError extends Error {
  constructor(readonly messages: readonly YaraMessage[]) {
    super(messages.map((m) => `${m.code}: ${m.title}`).join("; ") || "YARA compilation failed");
    this.name = "YaraCompileError";
  }
}

// ---- the raw binding, as it really is (observed on 0.7.2) ----

interface RawMessage {
  code: string;
  message: string;
}
interface RawMatch {
  offset: number;
  length: number;
  identifier: string;
}
interface RawRuleMatch {
  ruleIdentifier: string;
  namespace: string;
  meta: Record<string, unknown>;
  tags: string[];
  matches: RawMatch[];
}
interface RawCompilerOptions {
  namespace?: string;
  defineVariables?: Record<string, YaraDefineValue>;
  includeDirectories?: string[];
  enableIncludes?: boolean;
}
interface RawRules {
  scan(data: Uint8Array): RawRuleMatch[];
  scanFile(path: string): RawRuleMatch[];
  serialize(): Buffer;
  getWarnings(): RawMessage[];
  addRuleSources(sources: { source: string; namespace?: string }[]): void;
  setMaxMatchesPerPattern(n: number): void;
  setTimeout(ms: number): void;
}
interface RawBinding {
  compile(source: string, options?: RawCompilerOptions): RawRules;
  validate(source: string, options?: RawCompilerOptions): { errors: RawMessage[]; warnings: RawMessage[] };
  deserialize(blob: Buffer): RawRules;
}

let cached: YaraEngine | YaraUnavailableError | undefined;

/** Environment variable choosing the engine: `yara-x` (binding only), `yara` (system yara only), `auto`. */
export const ENGINE_ENV = "QUARRY_YARA_ENGINE";

/**
 * The YARA engine, chosen once per thread: the pinned YARA-X binding; else (off Linux x64, binding missing
 * or of another version) a system `yara` program on PATH, announced once on stderr; else
 * `YaraUnavailableError` with both reasons. `QUARRY_YARA_ENGINE=yara-x|yara` forces one.
 */
export function loadYaraX(): YaraEngine {
  if (cached === undefined) cached = selectEngine();
  if (cached instanceof YaraUnavailableError) throw cached;
  return cached;
}

/** Rules serialized by either engine, turned back into rules (in a worker thread). */
export function deserializeRules(blob: Uint8Array): YaraRules {
  return isCliRulesBlob(blob) ? deserializeCliRules(blob) : loadYaraX().deserialize(blob);
}

function selectEngine(): YaraEngine | YaraUnavailableError {
  const wanted = (process.env[ENGINE_ENV] ?? "auto").trim().toLowerCase() || "auto";
  if (wanted !== "auto" && wanted !== "yara-x" && wanted !== "yara") {
    return new YaraUnavailableError(
      `${ENGINE_ENV}=${process.env[ENGINE_ENV]}: expected yara-x (the YARA-X binding), yara (a system yara program) or auto`,
    );
  }
  const binding = wanted === "yara" ? new YaraUnavailableError(`${ENGINE_ENV}=yara`) : tryLoadBinding();
  if (!(binding instanceof YaraUnavailableError) || wanted === "yara-x") return binding;
  const yara = findOnPath("yara");
  const version = yara === null ? null : yaraCliVersion(yara);
  if (yara === null || version === null) {
    if (wanted === "yara") {
      return new YaraUnavailableError(
        `${ENGINE_ENV}=yara, but no working yara program is on PATH${yara ? ` (${yara} --version failed)` : ""}`,
      );
    }
    return new YaraUnavailableError(
      `${binding.message}; no yara program on PATH to fall back to either (install YARA 4.x, e.g. apt-get install yara / brew install yara)`,
    );
  }
  const engine = makeYaraCliEngine(yara, findYarac(yara), version);
  if (isMainThread) {
    process.stderr.write(
      `quarry: YARA engine: ${engine.description}, not YARA-X (${binding.message}); see docs/scan.md, "Platform support"\n`,
    );
  }
  return engine;
}

function tryLoadBinding(): YaraEngine | YaraUnavailableError {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return new YaraUnavailableError(
      `YARA scanning needs the YARA-X binding ${BINDING_PACKAGE}@${PINNED_BINDING_VERSION}, which exists only for Linux x64 ` +
        `(this is ${process.platform}/${process.arch}); hash sweeps still work with --rules none and no --yara (see docs/scan.md)`,
    );
  }
  const require = createRequire(import.meta.url);
  let version: string;
  try {
    version = (require(`${BINDING_PACKAGE}/package.json`) as { version: string }).version;
  } catch {
    return new YaraUnavailableError(
      `the YARA-X binding ${BINDING_PACKAGE} is not installed (run npm ci; it is pinned to ${PINNED_BINDING_VERSION})`,
    );
  }
  if (version !== PINNED_BINDING_VERSION) {
    return new YaraUnavailableError(
      `the YARA-X binding ${BINDING_PACKAGE} is version ${version}, but Quarry needs ${PINNED_BINDING_VERSION} ` +
        `(older binaries are slow and mis-report boolean metadata); reinstall with npm ci so the override applies`,
    );
  }
  let raw: RawBinding;
  try {
    raw = require(BINDING_PACKAGE) as RawBinding;
  } catch (error) {
    return new YaraUnavailableError(
      `cannot load the YARA-X binding ${BINDING_PACKAGE}: ${(error as Error).message}`,
    );
  }
  return makeEngine(raw, version);
}

function rawOptions(options: YaraCompileOptions | undefined, namespace?: string): RawCompilerOptions {
  const out: RawCompilerOptions = {};
  if (namespace !== undefined) out.namespace = namespace;
  if (options?.defines && Object.keys(options.defines).length > 0)
    out.defineVariables = { ...options.defines };
  if (options?.includeDirectories?.length) {
    out.includeDirectories = [...options.includeDirectories];
    out.enableIncludes = true;
  }
  return out;
}

function makeEngine(raw: RawBinding, version: string): YaraEngine {
  return {
    kind: "yara-x",
    bindingVersion: version,
    description: `YARA-X binding ${BINDING_PACKAGE}@${version}`,
    validate(source, options) {
      const result = raw.validate(source, rawOptions(options, options?.namespace));
      return { errors: result.errors.map(parseMessage), warnings: result.warnings.map(parseMessage) };
    },
    compile(sources, options) {
      let rules: RawRules;
      try {
        // An empty first source carries the options; every real source then goes in with its namespace,
        // in a single compilation pass.
        rules = raw.compile("", rawOptions(options));
        rules.addRuleSources(sources.map((s) => ({ source: s.source, namespace: s.namespace })));
      } catch (error) {
        throw new YaraCompileError([parseThrown(error)]);
      }
      return wrapRules(rules);
    },
    deserialize(blob) {
      return wrapRules(raw.deserialize(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)));
    },
  };
}

function wrapRules(rules: RawRules): YaraRules {
  const warnings = rules.getWarnings().map(parseMessage);
  return {
    warnings,
    scan: (data) => rules.scan(data).map(convertMatch),
    scanFile: (path) => rules.scanFile(path).map(convertMatch),
    serialize: () => rules.serialize(),
    setMaxMatchesPerPattern: (n) => rules.setMaxMatchesPerPattern(n),
    setTimeoutMs: (ms) => rules.setTimeout(ms),
    needsFile: false,
    // Not used on this path (FileScanner reads files into its buffer); kept so both engines are alike.
    scanFd: (_fd, path) => rules.scanFile(path).map(convertMatch),
  };
}

function convertMatch(m: RawRuleMatch): YaraRuleMatch {
  const meta: Record<string, YaraMetaValue> = {};
  for (const [key, value] of Object.entries(m.meta)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
      meta[key] = value;
  }
  return {
    rule: m.ruleIdentifier,
    namespace: m.namespace,
    tags: m.tags,
    meta,
    // `data` is deliberately dropped: the binding decodes matched bytes as lossy UTF-8.
    matches: m.matches.map((x) => ({ identifier: x.identifier, offset: x.offset, length: x.length })),
  };
}

/** A thrown compile failure is `Compilation error (E001): error[E001]: ...`. */
function parseThrown(error: unknown): YaraMessage {
  const text = error instanceof Error ? error.message : String(error);
  const m = /^Compilation error \(([^)]*)\): ([\s\S]*)$/.exec(text);
  if (m) return parseMessage({ code: m[1], message: m[2] });
  return { code: "", title: text, detail: "", report: text };
}

/**
 * Pull the title, location and primary label out of a YARA-X report:
 *
 *     error[E009]: unknown identifier `bar`
 *      --> line:5:21
 *       |
 *     5 | rule y { condition: bar }
 *       |                     ^^^ this identifier has not been declared
 *
 * The origin is `line` for the compiled source itself and the include path for an included file.
 */
export function parseMessage(raw: RawMessage): YaraMessage {
  const report = raw.message;
  const lines = report.split("\n");
  const head = /^(?:error|warning)(?:\[[^\]]*\])?: (.*)$/.exec(lines[0] ?? "");
  const title = head ? head[1] : (lines[0] ?? "");
  let line: number | undefined;
  let column: number | undefined;
  let includedFile: string | undefined;
  const loc = /^\s*--> (.*):(\d+):(\d+)\s*$/m.exec(report);
  if (loc) {
    line = Number(loc[2]);
    column = Number(loc[3]);
    if (loc[1] !== "line") includedFile = loc[1];
  }
  let detail = "";
  for (const l of lines) {
    const label = /^\s*\|\s*[\^]+\s?(.*)$/.exec(l);
    if (label) {
      detail = label[1];
      break;
    }
  }
  return { code: raw.code, title, detail, report, includedFile, line, column };
}
