/**
 * Scan benchmark: `quarry scan --no-hashes --threads N` against the Debian `yara` CLI (`yara -p N -r`) on the
 * same corpus and the same rules (the bundled 3CX pack's YARA file), checking both report the same
 * (file, rule) matches; then `quarry scan` in its default mode (bundled pack, hashes on). Reports MB/s,
 * files/s and peak RSS (of the whole process, worker threads included). The target is >= 1.5x yara's MB/s.
 *
 * The corpus (>= 1 GiB of mixed files plus 500 small files and a few generated 3CX look-alikes so that the
 * match comparison means something) is built once and cached in `workDir/scan-corpus`.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildIcoDeadDrop,
  buildInnerDll,
  buildMainStorage,
  buildSuddenIconCarrier,
} from "../test/fixtures-gen/suddenicon.js";

export interface BenchRow {
  name: string;
  mbPerSec: number;
  filesPerSec?: number;
  peakRssMb: number;
  note?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../..");
const RULES = join(repoRoot, "packs/3cx/yara/suddenicon.yar");
const CORPUS_VERSION = "scan-corpus-v1";
const MiB = 1024 * 1024;

/** A deterministic pseudo-random generator (xorshift32) for text-like content. */
function* words(seed: number): Generator<string> {
  let x = seed || 1;
  const vocab = [
    "GET",
    "POST",
    "/api/v1/items",
    "200",
    "404",
    "user=alice",
    "host=web-01",
    "Mozilla/5.0",
    "error",
    "warning",
    "info",
    "connection",
    "timeout",
    "session",
    "C:\\Windows\\System32\\svchost.exe",
    "raw.githubusercontent.com",
    "3CXDesktopApp.exe",
    "ffmpeg.dll",
    '{"event":"process"}',
  ];
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield vocab[(x >>> 0) % vocab.length];
  }
}

function writeTextFile(path: string, bytes: number, seed: number): void {
  const fd = openSync(path, "w");
  const gen = words(seed);
  let written = 0;
  let line = 0;
  try {
    while (written < bytes) {
      const parts: string[] = [];
      let size = 0;
      while (size < MiB) {
        const l = `2023-03-29T12:${String(line % 60).padStart(2, "0")}:00Z ${gen.next().value} ${gen.next().value} ${gen.next().value} ${gen.next().value}\n`;
        parts.push(l);
        size += l.length;
        line++;
      }
      const chunk = Buffer.from(parts.join("")).subarray(0, Math.min(size, bytes - written));
      writeSync(fd, chunk);
      written += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
}

function writeRandomFile(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  try {
    for (let written = 0; written < bytes; written += 8 * MiB)
      writeSync(fd, randomBytes(Math.min(8 * MiB, bytes - written)));
  } finally {
    closeSync(fd);
  }
}

/** Structured binary: repeating records with small counters, zero runs and some random bytes. */
function writeStructuredFile(path: string, bytes: number, seed: number): void {
  const fd = openSync(path, "w");
  try {
    const block = Buffer.alloc(4 * MiB);
    for (let written = 0, n = seed; written < bytes; written += block.length) {
      for (let i = 0; i < block.length; i += 64) {
        block.writeUInt32LE(n++ >>> 0, i);
        block.fill(0, i + 4, i + 40);
        randomBytes(24).copy(block, i + 40);
      }
      writeSync(fd, block.subarray(0, Math.min(block.length, bytes - written)));
    }
  } finally {
    closeSync(fd);
  }
}

/** Build the corpus once; returns its folder. */
export function buildScanCorpus(workDir: string): string {
  const dir = join(workDir, "scan-corpus");
  const stamp = join(dir, ".complete");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === CORPUS_VERSION) return dir;
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ["random", "text", "structured", "small", "planted"])
    mkdirSync(join(dir, sub), { recursive: true });
  for (let i = 0; i < 8; i++) writeRandomFile(join(dir, "random", `blob${i}.bin`), 64 * MiB);
  for (let i = 0; i < 8; i++) writeTextFile(join(dir, "text", `log${i}.log`), 32 * MiB, i + 1);
  for (let i = 0; i < 4; i++)
    writeStructuredFile(join(dir, "structured", `data${i}.dat`), 64 * MiB, i * 1000);
  for (let i = 0; i < 500; i++) {
    const size = 1024 + ((i * 2654435761) % (63 * 1024));
    const path = join(dir, "small", `f${String(i).padStart(3, "0")}.${i % 2 ? "txt" : "bin"}`);
    if (i % 2) writeTextFile(path, size, i + 100);
    else writeFileSync(path, randomBytes(size));
  }
  writeFileSync(join(dir, "planted", "d3dcompiler_47.dll"), buildSuddenIconCarrier().bytes);
  writeFileSync(
    join(dir, "planted", "single-marker.dll"),
    buildSuddenIconCarrier({ markerForm: "single" }).bytes,
  );
  writeFileSync(join(dir, "planted", "samcli.dll"), buildInnerDll());
  writeFileSync(
    join(dir, "planted", "icon1.ico"),
    buildIcoDeadDrop({ url: "https://msstorageazure.com/window" }).bytes,
  );
  writeFileSync(join(dir, "planted", ".main_storage"), buildMainStorage());
  writeFileSync(stamp, CORPUS_VERSION);
  return dir;
}

function corpusStats(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name !== ".complete") {
        files++;
        bytes += st.size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

function ensureYara(): string | null {
  const found = spawnSync("yara", ["--version"], { encoding: "utf8" });
  if (found.status === 0) return found.stdout.trim();
  const install = spawnSync("apt-get", ["install", "-y", "yara"], { encoding: "utf8" });
  if (install.status !== 0) spawnSync("apt-get", ["update"], { encoding: "utf8" });
  spawnSync("apt-get", ["install", "-y", "yara"], { encoding: "utf8" });
  const again = spawnSync("yara", ["--version"], { encoding: "utf8" });
  return again.status === 0 ? again.stdout.trim() : null;
}

interface Timed {
  seconds: number;
  peakRssMb: number;
  stdout: string;
  stderr: string;
  status: number;
}

/** Run a command under /usr/bin/time (peak RSS in KiB on the last stderr line). */
function timed(cmd: string, args: string[]): Timed {
  const useTime = existsSync("/usr/bin/time");
  const started = performance.now();
  const r = useTime
    ? spawnSync("/usr/bin/time", ["-f", "%M", cmd, ...args], { encoding: "utf8", maxBuffer: 512 * MiB })
    : spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 512 * MiB });
  const seconds = (performance.now() - started) / 1000;
  let stderr = r.stderr ?? "";
  let peakRssMb = Number.NaN;
  if (useTime) {
    const lines = stderr.trimEnd().split("\n");
    peakRssMb = Number(lines.pop()) / 1024;
    stderr = lines.join("\n");
  }
  return { seconds, peakRssMb, stdout: r.stdout ?? "", stderr, status: r.status ?? -1 };
}

function best(runs: Timed[]): Timed {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** The `quarry` entry that has `scan`: the real program once wired, else the scan-only test entry. */
function quarryEntry(): string {
  const main = join(repoRoot, "bin/quarry.js");
  const probe = spawnSync(process.execPath, [main, "scan", "--help"], { encoding: "utf8" });
  if (probe.status === 0 && /--yara/.test(probe.stdout)) return main;
  return join(repoRoot, "dist/test/scan/cli-entry.js");
}

function yaraMatches(stdout: string): Set<string> {
  const out = new Set<string>();
  for (const line of stdout.split("\n")) {
    const m = /^(\S+) (.+)$/.exec(line);
    if (m) out.add(`${resolve(m[2])}\t${m[1]}`);
  }
  return out;
}

function quarryMatches(stdout: string): Set<string> {
  const out = new Set<string>();
  for (const line of stdout.split("\n")) {
    if (!line) continue;
    const rec = JSON.parse(line) as { file: { path: string }; yara: { rule: string }[] };
    for (const y of rec.yara) out.add(`${resolve(rec.file.path)}\t${y.rule}`);
  }
  return out;
}

function diff(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((x) => !b.has(x));
}

export async function benchScan(options: { workDir: string; threads: number }): Promise<BenchRow[]> {
  const threads = Math.max(1, options.threads);
  mkdirSync(options.workDir, { recursive: true });
  const corpus = buildScanCorpus(options.workDir);
  const { files, bytes } = corpusStats(corpus);
  const mb = bytes / 1e6;
  const rows: BenchRow[] = [];
  const entry = quarryEntry();
  const runs = 3;

  // Warm the page cache so every tool reads from memory.
  timed(process.execPath, [
    entry,
    "scan",
    "--rules",
    "none",
    "--no-hashes",
    "--yara",
    RULES,
    "--threads",
    String(threads),
    corpus,
  ]);

  const yaraVersion = ensureYara();
  let yaraRow: BenchRow | null = null;
  let yaraSet: Set<string> | null = null;
  if (yaraVersion) {
    const r = best(
      Array.from({ length: runs }, () => timed("yara", ["-w", "-p", String(threads), "-r", RULES, corpus])),
    );
    yaraSet = yaraMatches(r.stdout);
    yaraRow = {
      name: `scan: yara ${yaraVersion} -p ${threads} -r (3CX pack rules)`,
      mbPerSec: mb / r.seconds,
      filesPerSec: files / r.seconds,
      peakRssMb: r.peakRssMb,
      note: `${files} files, ${mb.toFixed(0)} MB, ${yaraSet.size} matches${r.status !== 0 ? `, exit ${r.status}: ${r.stderr.slice(0, 200)}` : ""}`,
    };
    rows.push(yaraRow);
  } else {
    rows.push({
      name: "scan: yara CLI",
      mbPerSec: Number.NaN,
      peakRssMb: Number.NaN,
      note: "yara not available (apt-get install -y yara failed)",
    });
  }

  const q = best(
    Array.from({ length: runs }, () =>
      timed(process.execPath, [
        entry,
        "scan",
        "--rules",
        "none",
        "--no-hashes",
        "--yara",
        RULES,
        "--threads",
        String(threads),
        "--format",
        "ndjson",
        corpus,
      ]),
    ),
  );
  const qSet = quarryMatches(q.stdout);
  const notes = [`${qSet.size} matches`];
  if (yaraRow && yaraSet) {
    notes.push(`${(mb / q.seconds / yaraRow.mbPerSec).toFixed(2)}x yara (target 1.5x)`);
    const onlyQ = diff(qSet, yaraSet);
    const onlyY = diff(yaraSet, qSet);
    notes.push(
      onlyQ.length === 0 && onlyY.length === 0
        ? "same matches as yara"
        : `MATCHES DIFFER: quarry only ${onlyQ.join(", ") || "-"}; yara only ${onlyY.join(", ") || "-"}`,
    );
  }
  if (q.status !== 0) notes.push(`exit ${q.status}: ${q.stderr.slice(0, 200)}`);
  rows.push({
    name: `scan: quarry scan --no-hashes --threads ${threads}`,
    mbPerSec: mb / q.seconds,
    filesPerSec: files / q.seconds,
    peakRssMb: q.peakRssMb,
    note: notes.join("; "),
  });

  // Rules every file must be fully searched with (no header or size gate): Elastic's upstream file, read
  // from the shared folder when present. Shows the raw pattern-search speed of both engines.
  const elastic = join(
    process.env.QUARRY_SHARED ?? join(repoRoot, "../shared"),
    "content/yara-upstream/elastic/Windows_Trojan_SuddenIcon.yar",
  );
  if (yaraVersion && existsSync(elastic)) {
    const y = best(
      Array.from({ length: runs }, () => timed("yara", ["-w", "-p", String(threads), "-r", elastic, corpus])),
    );
    const e = best(
      Array.from({ length: runs }, () =>
        timed(process.execPath, [
          entry,
          "scan",
          "--rules",
          "none",
          "--no-hashes",
          "--yara",
          elastic,
          "--threads",
          String(threads),
          "--format",
          "ndjson",
          corpus,
        ]),
      ),
    );
    const ys = yaraMatches(y.stdout);
    const es = quarryMatches(e.stdout);
    const same = diff(ys, es).length === 0 && diff(es, ys).length === 0;
    rows.push({
      name: `scan: yara -p ${threads} -r, Elastic's ungated SUDDENICON rules (full pattern search)`,
      mbPerSec: mb / y.seconds,
      filesPerSec: files / y.seconds,
      peakRssMb: y.peakRssMb,
      note: `${ys.size} matches`,
    });
    rows.push({
      name: `scan: quarry scan --no-hashes --threads ${threads}, Elastic's ungated rules (full pattern search)`,
      mbPerSec: mb / e.seconds,
      filesPerSec: files / e.seconds,
      peakRssMb: e.peakRssMb,
      note: `${es.size} matches; ${(y.seconds / e.seconds).toFixed(2)}x yara; ${same ? "same matches as yara" : "MATCHES DIFFER"}`,
    });
  }

  const d = best(
    Array.from({ length: runs }, () =>
      timed(process.execPath, [entry, "scan", "--threads", String(threads), "--format", "ndjson", corpus]),
    ),
  );
  rows.push({
    name: `scan: quarry scan --threads ${threads} (default: 3CX pack, md5+sha1+sha256)`,
    mbPerSec: mb / d.seconds,
    filesPerSec: files / d.seconds,
    peakRssMb: d.peakRssMb,
    note: `${d.stdout.split("\n").filter(Boolean).length} files with findings${d.status !== 0 ? `; exit ${d.status}: ${d.stderr.slice(0, 200)}` : ""}`,
  });
  return rows;
}

// `node dist/bench/scan.js [workDir] [threads]` runs it alone.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const workDir = process.argv[2] ?? join(repoRoot, ".bench-work");
  const threads = Number(process.argv[3] ?? 2);
  for (const row of await benchScan({ workDir, threads })) console.log(JSON.stringify(row));
}
