/**
 * `quarry simulate`: realistic ECS NDJSON for a fleet, with 3CX supply-chain infections among look-alikes,
 * deterministic by seed and streamed (any size, constant memory). Data on stdout or --output; the truth
 * report with --truth; progress on stderr only when stderr is a terminal.
 */
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { type Command, InvalidArgumentError, Option } from "commander";
import {
  type SimulateOptions,
  Simulation,
  VARIANT_DESCRIPTIONS,
  VARIANTS,
  type VariantName,
} from "../../simulate/index.js";
import { CliError, ExitCode, parseIntegerOption, parseSize } from "../common.js";

interface SimulateFlags {
  seed: number;
  hosts: number;
  days: number;
  infected?: number;
  events?: number;
  bytes?: number;
  start?: Date;
  variants?: VariantName[];
  clean3cx?: number;
  activityRate?: number;
  noise?: number | true;
  output?: string;
  gzip?: boolean;
  truth?: string;
}

const positiveNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0`);
  return n;
};

const fraction = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`${name} must be a fraction between 0 and 1`);
  return n;
};

function parseVariants(value: string): VariantName[] {
  const names = value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  for (const n of names)
    if (!VARIANTS.includes(n as VariantName))
      throw new InvalidArgumentError(`unknown variant ${n} (known: ${VARIANTS.join(", ")})`);
  if (names.length === 0) throw new InvalidArgumentError("give at least one variant");
  return names as VariantName[];
}

function parseStart(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new InvalidArgumentError(`not a time: ${value} (ISO-8601, e.g. 2023-03-15T00:00:00Z)`);
  return d;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command("simulate")
    .summary("generate realistic ECS NDJSON with 3CX supply-chain infections")
    .description(
      "Generate realistic ECS NDJSON for a fleet (Elastic Defend endpoint events, proxy logs, Defend alerts), deterministic by --seed and streamed (any size, constant memory), with 3CX supply-chain infections among look-alikes that must not alert.",
    )
    .addHelpText(
      "after",
      `
Infection variants (handed out in turn to the infected hosts):
${VARIANTS.map((v) => `  ${v}\n      ${VARIANT_DESCRIPTIONS[v]}`).join("\n")}

The truth report (--truth) lists every host ({compromised, variant, os}) and the role of every
attack-chain event by event.id. See docs/3cx.md.

Examples:
  quarry simulate --hosts 200 --infected 12 --output fleet.ndjson --truth truth.json
  quarry simulate --seed 42 --hosts 2000 --bytes 2G --gzip --output bench.ndjson.gz`,
    )
    .option("--seed <n>", "seed of every random choice", parseIntegerOption("--seed", 0), 1)
    .option("--hosts <n>", "hosts in the fleet", parseIntegerOption("--hosts", 1), 50)
    .option("--days <n>", "days covered (14 holds the 7-day timer)", positiveNumber("--days"), 14)
    .option(
      "--infected <n>",
      "infected hosts (default: one per variant)",
      parseIntegerOption("--infected", 0),
    )
    .addOption(
      new Option("--events <n>", "stop after exactly N events")
        .argParser(parseIntegerOption("--events", 1))
        .conflicts("bytes"),
    )
    .addOption(
      new Option("--bytes <size>", "stop at SIZE bytes of NDJSON (e.g. 500M, 2G)").argParser(parseSize),
    )
    .option("--start <time>", "first instant covered (default 2023-03-15T00:00:00Z)", parseStart)
    .option("--variants <list>", "comma-separated variants to use (default: all)", parseVariants)
    .option(
      "--clean-3cx <fraction>",
      "share of the other hosts with a clean 3CX install (default 0.25)",
      fraction("--clean-3cx"),
    )
    .option(
      "--activity-rate <n>",
      "background activities per host per working day when no --events/--bytes budget sets it (default 60)",
      positiveNumber("--activity-rate"),
    )
    .option(
      "--noise [fraction]",
      "turn a fraction of background lines into parser-testing noise (default 0.001 when given)",
      fraction("--noise"),
    )
    .option("-o, --output <file>", "write the NDJSON here instead of stdout")
    .option("--gzip", "gzip the output")
    .option("--truth <file>", "write the truth report (JSON) here")
    .action(async (flags: SimulateFlags) => {
      await runSimulate(flags);
    });
}

async function runSimulate(flags: SimulateFlags): Promise<void> {
  const options: SimulateOptions = {
    seed: flags.seed,
    hosts: flags.hosts,
    days: flags.days,
    infected: flags.infected,
    events: flags.events,
    bytes: flags.bytes,
    start: flags.start,
    variants: flags.variants,
    clean3cx: flags.clean3cx,
    activityRate: flags.activityRate,
    noise: flags.noise === true ? 0.001 : flags.noise,
  };
  let simulation: Simulation;
  try {
    simulation = new Simulation(options);
  } catch (error) {
    if (error instanceof RangeError)
      throw new CliError(error.message.replace(/^simulate: /, ""), ExitCode.usage);
    throw error;
  }
  for (const w of simulation.warnings) process.stderr.write(`quarry: warning: ${w}\n`);

  const started = Date.now();
  const showProgress = process.stderr.isTTY === true;
  let lastDraw = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (showProgress) {
        const now = Date.now();
        if (now - lastDraw > 250) {
          lastDraw = now;
          const secs = Math.max(0.001, (now - started) / 1000);
          const mb = simulation.bytes / 1e6;
          const of = options.bytes
            ? ` of ${(options.bytes / 1e6).toFixed(0)} MB`
            : options.events
              ? `, ${simulation.events} of ${options.events} events`
              : `, ${simulation.events} events`;
          process.stderr.write(
            `\r\u001b[Ksimulating: ${mb.toFixed(1)} MB${of}, ${(mb / secs).toFixed(1)} MB/s`,
          );
        }
      }
      done(null, chunk);
    },
  });
  const source = Readable.from(simulation.chunks(), { objectMode: false, highWaterMark: 4 << 20 });
  const sink = flags.output ? createWriteStream(flags.output) : process.stdout;
  try {
    if (flags.gzip) await pipeline(source, progress, createGzip({ level: 6 }), sink);
    else await pipeline(source, progress, sink);
  } catch (error) {
    // `quarry simulate | head`: the reader went away; stop quietly.
    if ((error as NodeJS.ErrnoException).code !== "EPIPE") {
      if (flags.output && (error as NodeJS.ErrnoException).code)
        throw new CliError(`cannot write ${flags.output}: ${(error as Error).message}`, ExitCode.input);
      throw error;
    }
  } finally {
    if (showProgress) process.stderr.write("\r\u001b[K");
  }
  const truth = simulation.truth();
  if (flags.truth) {
    try {
      await writeFile(flags.truth, `${JSON.stringify(truth, null, 1)}\n`);
    } catch (error) {
      throw new CliError(`cannot write ${flags.truth}: ${(error as Error).message}`, ExitCode.input);
    }
  }
  const hosts = Object.values(truth.hosts);
  const compromised = hosts.filter((h) => h.compromised).length;
  const secs = (Date.now() - started) / 1000;
  process.stderr.write(
    `quarry: simulated ${simulation.events} events (${(simulation.bytes / 1e6).toFixed(1)} MB) for ${hosts.length} hosts, ${compromised} compromised, in ${secs.toFixed(1)} s${flags.truth ? `; truth in ${flags.truth}` : ""}\n`,
  );
}
