/**
 * `npm run bench`: generates (once, cached under .bench-cache/) the simulator's NDJSON dataset and prints,
 * for one run on this machine (or the best of BENCH_REPEAT rounds), each row's events/s, MB/s, peak RSS
 * and ratio to the parse-only baseline (or to the row it is compared with), with its targets; then the
 * scan benchmark (quarry scan against the
 * Debian yara CLI). Each row runs in its own process. Writes reports/bench.json.
 *   BENCH_BYTES=2G (dataset size)   BENCH_ROWS=reader,domain,scan (subset; parse-only always runs)
 *   BENCH_REPEAT=3 (rounds over every row; each row keeps its fastest run, its largest RSS)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSize } from "../src/cli/common.js";
import type { RowResult } from "./measure.js";
import { benchPlan } from "./plan.js";
import { benchScan, type ScanBenchResult } from "./scan.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");

interface Printed {
  name: string;
  label: string;
  events: number;
  eventsPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
  seconds: number;
  /** events/s over the baseline's (or over step `relativeTo`'s). */
  ratio?: number;
  relativeTo?: string;
  hits?: number;
  targets?: { issue: number; min: number; met: boolean }[];
  error?: string;
}

async function main(): Promise<void> {
  const bytes = parseSize(process.env.BENCH_BYTES ?? "2G");
  const cache = join(repo, ".bench-cache");
  mkdirSync(cache, { recursive: true });
  const dataset = join(cache, `sim-${bytes}.ndjson`);
  if (!existsSync(dataset)) {
    process.stderr.write(`bench: generating ${(bytes / 1e9).toFixed(1)} GB dataset with the simulator...\n`);
    const { writeSimulatedFile } = await import("../src/simulate/index.js");
    await writeSimulatedFile(`${dataset}.tmp`, { seed: 42, bytes, hosts: 2000, days: 14, infected: 40 });
    execFileSync("mv", [`${dataset}.tmp`, dataset]);
  }
  const size = statSync(dataset).size;
  const only = process.env.BENCH_ROWS?.split(",").map((s) => s.trim());
  const printed: Printed[] = [];
  const byName = new Map<string, Printed>();
  const steps = benchPlan(repo).filter(
    (step) => !only || only.includes(step.name) || step.name === "parse-only",
  );
  // Rounds over every row, each row's fastest run kept: the VM's speed drifts over minutes, and a round
  // robin spreads every row over the same drift (BENCH_REPEAT, default 1).
  const rounds = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1) || 1);
  const best = new Map<string, RowResult>();
  const failed = new Map<string, string>();
  for (let round = 1; round <= rounds; round++) {
    for (const step of steps) {
      if (failed.has(step.name)) continue;
      try {
        const out = execFileSync(
          process.execPath,
          [
            "--max-old-space-size=4096",
            join(here, "measure.js"),
            step.row,
            dataset,
            JSON.stringify(step.args ?? {}),
          ],
          { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 },
        );
        const r = JSON.parse(out.trim().split("\n").pop()!) as RowResult;
        const previous = best.get(step.name);
        best.set(
          step.name,
          previous && previous.seconds <= r.seconds
            ? { ...previous, peakRssMb: Math.max(previous.peakRssMb, r.peakRssMb) }
            : { ...r, peakRssMb: Math.max(previous?.peakRssMb ?? 0, r.peakRssMb) },
        );
        process.stderr.write(
          `bench: round ${round}/${rounds} ${step.label}: ${(size / 1e6 / r.seconds).toFixed(1)} MB/s, ${r.peakRssMb.toFixed(0)} MB RSS\n`,
        );
      } catch (error) {
        failed.set(step.name, (error as Error).message.split("\n")[0]);
        process.stderr.write(`bench: ${step.label}: FAILED ${failed.get(step.name)}\n`);
      }
    }
  }
  for (const step of steps) {
    const r = best.get(step.name);
    if (!r) {
      printed.push({
        name: step.name,
        label: step.label,
        events: 0,
        eventsPerSec: 0,
        mbPerSec: 0,
        peakRssMb: 0,
        seconds: 0,
        error: failed.get(step.name) ?? "not run",
      });
      continue;
    }
    const eventsPerSec = r.events / r.seconds;
    const p: Printed = {
      name: step.name,
      label: step.label,
      events: r.events,
      eventsPerSec,
      mbPerSec: size / 1e6 / r.seconds,
      peakRssMb: r.peakRssMb,
      seconds: r.seconds,
      hits: r.hits,
    };
    const base = byName.get(step.relativeTo ?? "parse-only");
    if (base && step.name !== "parse-only" && step.name !== "raw-read" && base.seconds > 0) {
      // Same dataset for every row: the ratio of throughputs is the ratio of times.
      p.ratio = base.seconds / r.seconds;
      p.relativeTo = step.relativeTo;
    }
    if (step.targets && p.ratio !== undefined) {
      p.targets = step.targets.map((t) => ({ ...t, met: p.ratio! >= t.min }));
    }
    printed.push(p);
    byName.set(step.name, p);
  }
  let scan: ScanBenchResult | undefined;
  if (!only || only.includes("scan")) {
    scan = await benchScan({ workDir: cache, threads: Math.min(2, cpus().length) });
  }
  const header = `dataset: ${dataset} (${(size / 1e9).toFixed(2)} GB), ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}${rounds > 1 ? `, best of ${rounds} rounds` : ""}`;
  console.log(header);
  console.log(
    `${"row".padEnd(50)} ${"events/s".padStart(10)} ${"MB/s".padStart(8)} ${"peak RSS".padStart(9)} ${"ratio".padStart(7)}  target`,
  );
  for (const p of printed) {
    const ratio = p.ratio === undefined ? "-" : `${p.ratio.toFixed(2)}x`;
    const targets = (p.targets ?? [])
      .map((t) => `#${t.issue} >=${t.min}x ${t.met ? "met" : "MISSED"}`)
      .join(", ");
    const versus = p.relativeTo ? ` (vs ${p.relativeTo})` : "";
    console.log(
      p.error
        ? `${p.label.padEnd(50)} FAILED: ${p.error}`
        : `${p.label.padEnd(50)} ${Math.round(p.eventsPerSec).toLocaleString("en").padStart(10)} ${p.mbPerSec.toFixed(1).padStart(8)} ${`${p.peakRssMb.toFixed(0)} MB`.padStart(9)} ${ratio.padStart(7)}  ${targets}${versus}`,
    );
  }
  if (scan) {
    console.log(
      `\nscan corpus: ${scan.corpus.files} files, ${(scan.corpus.bytes / 1e9).toFixed(2)} GB; yara ${scan.yaraVersion ?? "not available"}`,
    );
    console.log(
      `${"row".padEnd(50)} ${"MB/s".padStart(8)} ${"files/s".padStart(9)} ${"peak RSS".padStart(9)}  note`,
    );
    for (const row of scan.rows) {
      console.log(
        `${row.name.padEnd(50)} ${row.mbPerSec.toFixed(1).padStart(8)} ${(row.filesPerSec ?? 0).toFixed(0).padStart(9)} ${`${row.peakRssMb.toFixed(0)} MB`.padStart(9)}  ${row.ratioVsYara !== undefined ? `${row.ratioVsYara.toFixed(2)}x yara; ` : ""}${row.note ?? ""}`,
      );
    }
    console.log(
      `scan target (#7): quarry --no-hashes >= 1.5x yara: ${scan.ratioVsYara === null ? "not measured" : `${scan.ratioVsYara.toFixed(2)}x ${scan.ratioVsYara >= 1.5 ? "met" : "MISSED"}`}; same matches: ${scan.sameMatches}`,
    );
  }
  mkdirSync(join(repo, "reports"), { recursive: true });
  writeFileSync(
    join(repo, "reports/bench.json"),
    `${JSON.stringify({ date: new Date().toISOString(), machine: header, rows: printed, scan }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
