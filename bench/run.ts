/**
 * `npm run bench`: generates (once, cached under .bench-cache/) the simulator's NDJSON dataset and prints,
 * for one run on this machine, each row's events/s, MB/s, peak RSS and ratio to the parse-only baseline.
 * Each row runs in its own process. Writes reports/bench.json.
 *   BENCH_BYTES=2G (dataset size)   BENCH_ROWS=reader,eql-filter (subset)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSize } from "../src/cli/common.js";
import type { RowResult } from "./measure.js";
import { benchPlan } from "./plan.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");

interface Printed {
  row: string;
  events: number;
  eventsPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
  ratio?: number;
  hits?: number;
  target?: string;
  note?: string;
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
  const only = process.env.BENCH_ROWS?.split(",");
  const printed: Printed[] = [];
  let baseline: number | undefined;
  for (const step of benchPlan(cache)) {
    if (only && !only.includes(step.row) && step.row !== "parse-only") continue;
    const out = execFileSync(
      process.execPath,
      [
        "--max-old-space-size=4096",
        join(here, "measure.js"),
        step.row,
        dataset,
        JSON.stringify(step.args ?? {}),
      ],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 1 << 20,
      },
    );
    const r = JSON.parse(out.trim().split("\n").pop()!) as RowResult;
    const eventsPerSec = r.events / r.seconds;
    if (step.row === "parse-only") baseline = eventsPerSec;
    const p: Printed = {
      row: step.label ?? step.row,
      events: r.events,
      eventsPerSec,
      mbPerSec: size / 1e6 / r.seconds,
      peakRssMb: r.peakRssMb,
      hits: r.hits,
      target: step.target,
    };
    if (baseline && step.row !== "raw-read") p.ratio = r.events > 0 ? eventsPerSec / baseline : undefined;
    if (step.row === "raw-read" && baseline === undefined) p.note = "bytes only";
    printed.push(p);
    process.stderr.write(
      `bench: ${p.row}: ${Math.round(p.eventsPerSec)} events/s, ${p.mbPerSec.toFixed(1)} MB/s, ${p.peakRssMb.toFixed(0)} MB RSS${p.ratio ? `, ${p.ratio.toFixed(2)}x baseline` : ""}\n`,
    );
  }
  const header = `dataset: ${dataset} (${(size / 1e9).toFixed(2)} GB), ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  console.log(header);
  console.log(
    `${"row".padEnd(44)} ${"events/s".padStart(12)} ${"MB/s".padStart(8)} ${"peak RSS".padStart(9)} ${"x base".padStart(7)} ${"target".padStart(8)} hits`,
  );
  for (const p of printed) {
    console.log(
      `${p.row.padEnd(44)} ${Math.round(p.eventsPerSec).toLocaleString("en").padStart(12)} ${p.mbPerSec.toFixed(1).padStart(8)} ${`${p.peakRssMb.toFixed(0)} MB`.padStart(9)} ${(p.ratio ? p.ratio.toFixed(2) : "-").padStart(7)} ${(p.target ?? "").padStart(8)} ${p.hits ?? ""}`,
    );
  }
  mkdirSync(join(repo, "reports"), { recursive: true });
  writeFileSync(
    join(repo, "reports/bench.json"),
    `${JSON.stringify({ date: new Date().toISOString(), machine: header, rows: printed }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
