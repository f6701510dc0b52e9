/**
 * `quarry scan`: YARA-X and hash sweeps of files, folders and mounted disks (docs/scan.md).
 *
 *     quarry scan [--yara FILE|DIR]... [--define NAME=VALUE]... [--iocs FILE]... [--rules NAME|PATH|none]
 *                 [--no-hashes] [--threads N] [--max-size SIZE] [--scan-large] [--exclude GLOB]...
 *                 [--format table|ndjson|json|csv] [--output FILE] [--fail-on-match] [--strict] PATH...
 *
 * Exit codes: 0 ok; 1 matches with --fail-on-match; 2 usage error (bad flag, a --yara/--iocs file that
 * cannot be read, a rule file that does not compile: reported, the others still run); 3 no input readable
 * at all (with --strict: any unreadable file); 70 internal error.
 */
import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import { isQuarryError } from "../../diagnostics/index.js";
import {
  assignNamespaces,
  type CompiledRuleSet,
  compileRuleFiles,
  csvHeader,
  DEFAULT_MAX_SIZE,
  DEFAULT_PACK,
  defaultThreads,
  expandRulePaths,
  formatRuleFileMessage,
  type HashIndicators,
  loadHashIndicators,
  loadYaraX,
  PackError,
  parseDefine,
  type RuleFile,
  RuleInputError,
  recordCsvRows,
  recordJson,
  recordTable,
  resolvePack,
  runScan,
  SCAN_FORMATS,
  type ScanFormat,
  type ScanIssue,
  type ScanProgress,
  type ScanRecord,
  type ScanSummary,
  type YaraDefineValue,
  YaraUnavailableError,
} from "../../scan/index.js";
import {
  addOutputOptions,
  CliError,
  ExitCode,
  parseIntegerOption,
  parseSize,
  raiseExitCode,
  resolveFormat,
} from "../common.js";

interface ScanFlags {
  yara?: string[];
  define?: string[];
  iocs?: string[];
  rules: string;
  hashes: boolean;
  threads?: number;
  maxSize: number;
  scanLarge?: boolean;
  exclude?: string[];
  format?: ScanFormat;
  output?: string;
  failOnMatch?: boolean;
  strict?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerScanCommand(program: Command): void {
  const cmd = program
    .command("scan")
    .description("YARA-X and hash sweep of files and folders (one record per file with a finding)")
    .argument("<path...>", "files and folders to scan (recursively)")
    .option("--yara <file|dir>", "YARA rule file or folder of .yar/.yara files (repeatable)", collect)
    .option(
      "--define <name=value>",
      "define an external variable for the rules, like yara -d (repeatable)",
      collect,
    )
    .option("--iocs <file>", "IOC list whose hashes to match (text, CSV, STIX; repeatable)", collect)
    .option("--rules <name|path|none>", "bundled pack, pack folder, or none", DEFAULT_PACK)
    .option("--no-hashes", "do not compute md5/sha1/sha256 (no hash indicator matching)")
    .option("--threads <n>", "worker threads (default: number of cores)", parseIntegerOption("--threads", 1))
    .option(
      "--max-size <size>",
      "files larger than this are hashed but not YARA-scanned (default 256MiB)",
      parseSize,
      DEFAULT_MAX_SIZE,
    )
    .option("--scan-large", "YARA-scan files over --max-size too (memory-mapped)")
    .option(
      "--exclude <glob>",
      "skip files and folders matching this glob under folders (repeatable)",
      collect,
    )
    .option("--fail-on-match", "exit 1 when any file matched")
    .option("--strict", "exit 3 when any file is unreadable");
  addOutputOptions(cmd, SCAN_FORMATS);
  cmd.action(async (paths: string[], flags: ScanFlags) => {
    await runScanCommand(paths, flags);
  });
}

interface ScanOutput {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * stdout or a file, with backpressure. Unlike a bare `once("drain")`, a pending write also resolves when the
 * stream errors or closes, so `quarry scan / | head` ends instead of waiting for a drain that never comes
 * (EPIPE ends output quietly; the scan still finishes and prints its summary).
 */
function openScanOutput(file: string | undefined): ScanOutput {
  const stream = file ? createWriteStream(file) : process.stdout;
  let broken = false;
  let failure: Error | null = null;
  const waiting = new Set<() => void>();
  const release = () => {
    for (const w of waiting) w();
    waiting.clear();
  };
  stream.on("error", (error: NodeJS.ErrnoException) => {
    broken = true;
    if (error.code !== "EPIPE") failure = error;
    release();
  });
  stream.on("close", () => {
    broken = true;
    release();
  });
  return {
    write(text) {
      if (failure)
        return Promise.reject(new CliError(`cannot write output: ${failure.message}`, ExitCode.usage));
      if (broken) return Promise.resolve();
      return new Promise((resolve) => {
        if (stream.write(text)) return resolve();
        const done = () => {
          stream.off("drain", done);
          waiting.delete(done);
          resolve();
        };
        waiting.add(done);
        stream.once("drain", done);
      });
    },
    close() {
      if (!file || broken) return Promise.resolve();
      return new Promise((resolve) => (stream as NodeJS.WritableStream).end(() => resolve()));
    },
  };
}

function parseDefines(texts: readonly string[]): Record<string, YaraDefineValue> {
  const defines: Record<string, YaraDefineValue> = {};
  for (const text of texts) {
    try {
      const [name, value] = parseDefine(text);
      defines[name] = value;
    } catch (error) {
      throw new CliError((error as Error).message, ExitCode.usage);
    }
  }
  return defines;
}

/** Limits repeated stderr notes of one kind, then counts them. */
class IssuePrinter {
  private readonly perKind = new Map<string, number>();
  constructor(private readonly limit = 20) {}
  print(kind: string, text: string): void {
    const n = (this.perKind.get(kind) ?? 0) + 1;
    this.perKind.set(kind, n);
    if (n <= this.limit) process.stderr.write(`quarry: ${text}\n`);
    else if (n === this.limit + 1)
      process.stderr.write(`quarry: (further ${kind} notes are counted in the summary)\n`);
  }
}

class ProgressLine {
  private lastDraw = 0;
  private shown = false;
  private readonly enabled = process.stderr.isTTY === true;
  update(p: ScanProgress): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (p.elapsedMs < 1000 || now - this.lastDraw < 250) return;
    this.lastDraw = now;
    this.shown = true;
    const secs = p.elapsedMs / 1000;
    const mbps = p.bytes / 1e6 / secs;
    let eta = "";
    if (p.walkDone && p.bytes > 0) {
      const left = (p.bytesFound - p.bytes) / (p.bytes / secs);
      eta = `, ETA ${Math.max(0, Math.round(left))}s`;
    }
    const files = p.walkDone ? `${p.files}/${p.filesFound}` : `${p.files}/${p.filesFound}+`;
    process.stderr.write(
      `\r\u001b[K${files} files, ${(p.bytes / 1e6).toFixed(1)} MB, ${mbps.toFixed(1)} MB/s${eta}`,
    );
  }
  done(): void {
    if (this.shown) process.stderr.write("\r\u001b[K");
  }
}

function summaryLine(s: ScanSummary): string {
  const secs = s.elapsedMs / 1000;
  const mb = s.bytes / 1e6;
  const parts = [
    `scanned ${s.files} file${s.files === 1 ? "" : "s"} (${mb.toFixed(1)} MB) in ${secs.toFixed(2)}s (${(mb / Math.max(secs, 1e-3)).toFixed(1)} MB/s)`,
    `${s.filesWithFindings} with findings (${s.yaraMatches} YARA, ${s.indicatorMatches} indicator)`,
  ];
  if (s.unreadable) parts.push(`${s.unreadable} unreadable`);
  if (s.special) parts.push(`${s.special} devices/sockets/FIFOs skipped`);
  if (s.loops) parts.push(`${s.loops} folders reached twice (links) skipped`);
  if (s.notYaraScanned) parts.push(`${s.notYaraScanned} over --max-size hashed only`);
  if (s.yaraErrors) parts.push(`${s.yaraErrors} YARA errors`);
  return `quarry: ${parts.join("; ")}`;
}

async function runScanCommand(paths: string[], flags: ScanFlags): Promise<void> {
  const defines = parseDefines(flags.define ?? []);
  let pack: ReturnType<typeof resolvePack>;
  try {
    pack = resolvePack(flags.rules);
  } catch (error) {
    if (error instanceof PackError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }

  // Rule files: the pack's, then the user's.
  let ruleFiles: RuleFile[];
  try {
    const entries = [
      ...(pack ? expandRulePaths(pack.yaraFiles, pack.name) : []).map((path) => ({
        path,
        origin: pack?.name ?? "pack",
      })),
      ...expandRulePaths(flags.yara ?? [], "user").map((path) => ({ path, origin: "user" })),
    ];
    ruleFiles = assignNamespaces(entries);
  } catch (error) {
    if (error instanceof RuleInputError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
  if (flags.yara && flags.yara.length > 0 && ruleFiles.every((f) => f.origin !== "user")) {
    throw new CliError(`no .yar or .yara files found in ${flags.yara.join(", ")}`, ExitCode.usage);
  }

  let ruleSet: CompiledRuleSet | null = null;
  if (ruleFiles.length > 0) {
    try {
      loadYaraX();
    } catch (error) {
      if (error instanceof YaraUnavailableError) throw new CliError(error.message, ExitCode.usage);
      throw error;
    }
    ruleSet = compileRuleFiles(ruleFiles, defines);
    for (const w of ruleSet.warnings) process.stderr.write(`quarry: ${formatRuleFileMessage(w)}\n`);
    for (const e of ruleSet.errors) process.stderr.write(`quarry: ${formatRuleFileMessage(e)}\n`);
    if (ruleSet.failed.length > 0) {
      process.stderr.write(
        `quarry: ${ruleSet.failed.length} rule file${ruleSet.failed.length === 1 ? "" : "s"} left out (${ruleSet.failed
          .map((f) => f.path)
          .join(", ")}); scanning with the other ${ruleSet.files.length}\n`,
      );
    }
  }

  // Hash indicators: the pack's lists, then --iocs.
  let indicators: HashIndicators | null = null;
  const iocFiles = [...(pack?.iocFiles ?? []), ...(flags.iocs ?? [])];
  if (iocFiles.length > 0) {
    try {
      indicators = await loadHashIndicators(iocFiles);
    } catch (error) {
      if (isQuarryError(error)) throw new CliError(error.diagnostic.title, ExitCode.usage);
      throw error;
    }
    for (const list of indicators.lists) {
      for (const e of list.errors.slice(0, 10))
        process.stderr.write(`quarry: ${e.file}:${e.line}: ${e.message}\n`);
      if (list.errors.length > 10)
        process.stderr.write(`quarry: ${list.name}: ${list.errors.length - 10} more malformed records\n`);
    }
    if (!flags.hashes && indicators.hashCount > 0 && (flags.iocs?.length ?? 0) > 0) {
      process.stderr.write("quarry: --no-hashes: the hash indicators of --iocs are not matched\n");
    }
  }
  const blob = ruleSet?.blob ?? null;
  if (!blob && !flags.hashes) {
    throw new CliError("nothing to scan for: no YARA rules compiled and --no-hashes given", ExitCode.usage);
  }

  const format = resolveFormat(flags.format, SCAN_FORMATS, flags.output !== undefined);
  const out = openScanOutput(flags.output);
  const printer = new IssuePrinter();
  const progress = new ProgressLine();
  let records = 0;
  const write = async (record: ScanRecord) => {
    switch (format) {
      case "ndjson":
        await out.write(`${recordJson(record)}\n`);
        break;
      case "json":
        await out.write(`${records === 0 ? "[\n" : ",\n"}${recordJson(record)}`);
        break;
      case "csv":
        if (records === 0) await out.write(`${csvHeader()}\n`);
        for (const row of recordCsvRows(record)) await out.write(`${row}\n`);
        break;
      case "table":
        await out.write(`${records === 0 ? "" : "\n"}${recordTable(record)}\n`);
        break;
      default: {
        const unreachable: never = format;
        throw new Error(`unknown format ${String(unreachable)}`);
      }
    }
    records++;
  };
  const onIssue = (issue: ScanIssue) => {
    progress.done();
    printer.print(issue.kind, `${issue.path}: ${issue.message}`);
  };
  const summary = await runScan({
    paths,
    rules: blob,
    indicators: flags.hashes ? indicators : null,
    hashes: flags.hashes,
    threads: flags.threads ?? defaultThreads(),
    maxSize: flags.maxSize,
    scanLarge: flags.scanLarge,
    exclude: flags.exclude,
    onRecord: write,
    onIssue,
    onProgress: (p) => progress.update(p),
  });
  progress.done();
  if (format === "json") await out.write(records === 0 ? "[]\n" : "\n]\n");
  else if (format === "csv" && records === 0) await out.write(`${csvHeader()}\n`);
  await out.close();
  process.stderr.write(`${summaryLine(summary)}\n`);

  if (ruleSet && ruleSet.failed.length > 0) raiseExitCode(ExitCode.usage);
  if (summary.files === 0 && summary.unreadable > 0) raiseExitCode(ExitCode.input);
  else if (flags.strict && summary.unreadable > 0) raiseExitCode(ExitCode.input);
  if (flags.failOnMatch && summary.filesWithFindings > 0) raiseExitCode(ExitCode.findings);
}
