/**
 * The telemetry simulator: realistic ECS NDJSON for a fleet (Elastic Defend endpoint events, proxy logs,
 * Defend alerts) with 3CX supply-chain infections of several variants among look-alikes that must not
 * alert. Deterministic by seed, streamed, memory bounded by the fleet's size. See docs/3cx.md.
 */

import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { type SimulateOptions, type SimulationTruth, World } from "./engine.js";

export type { HostTruth, SimulateOptions, SimulationTruth } from "./engine.js";
export { VARIANT_DESCRIPTIONS, VARIANTS, type VariantName } from "./host.js";

const DEFAULT_ACTIVITY_RATE = 60;
/**
 * How much faster than the estimate a budgeted run generates, so the budget (not the window's end) stops
 * it; the last few percent of the window are then not written. Attack chains are planned to complete in
 * the first 88% of the window (src/simulate/infection.ts).
 */
const HEADROOM = 1.08;
const MIN_ACTIVITY_RATE = 0.5;

/**
 * One simulation run. Iterate it once (as chunks of complete lines, or line by line with `lines()`); the
 * truth is complete when the iteration has ended.
 */
export class Simulation implements AsyncIterable<string> {
  private readonly world: World;
  private consumed = false;
  /** Things the caller should tell the user (e.g. a budget too small for the fleet and window). */
  readonly warnings: readonly string[];

  constructor(options: SimulateOptions = {}) {
    validate(options);
    const plan = activityRateFor(options);
    this.world = new World(options, plan.rate);
    this.warnings = plan.warnings;
  }

  /** Every event line (without its newline), in time order. */
  lines(): Generator<string> {
    if (this.consumed) throw new Error("simulate: a Simulation can be iterated only once");
    this.consumed = true;
    return this.world.lines();
  }

  /** Complete NDJSON (each chunk ends with a newline), encoded as UTF-8, about `chunkBytes` at a time. */
  chunks(chunkBytes = 1 << 20): Generator<Buffer> {
    if (this.consumed) throw new Error("simulate: a Simulation can be iterated only once");
    this.consumed = true;
    return this.world.chunks(chunkBytes);
  }

  /** Chunks of complete NDJSON lines as text. */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (const chunk of this.chunks()) yield chunk.toString("utf8");
  }

  /** Events written so far. */
  get events(): number {
    return this.world.eventsWritten;
  }

  /** Bytes (UTF-8, newlines included) written so far. */
  get bytes(): number {
    return this.world.bytesWritten;
  }

  /** Which hosts are compromised (and how), and the role of every attack-chain event written. */
  truth(): SimulationTruth {
    return this.world.truth();
  }
}

/** Start a simulation: an async iterable of NDJSON chunks (see `Simulation`). */
export function simulate(options: SimulateOptions = {}): Simulation {
  return new Simulation(options);
}

/** The lines of a simulation, for in-memory use (tests, demos). */
export function* simulateLines(options: SimulateOptions = {}): Generator<string> {
  yield* new Simulation(options).lines();
}

export interface WriteSimulationOptions extends SimulateOptions {
  /** gzip the output. */
  readonly gzip?: boolean;
  /** Write the truth report (JSON) here. */
  readonly truth?: string;
}

/** Simulate into a file (the bench uses this). Returns the events and uncompressed bytes written. */
export async function writeSimulatedFile(
  path: string,
  options: WriteSimulationOptions,
): Promise<{ events: number; bytes: number }> {
  const simulation = simulate(options);
  await writeSimulation(simulation, createWriteStream(path), options.gzip === true);
  if (options.truth) await writeFile(options.truth, `${JSON.stringify(simulation.truth())}\n`);
  return { events: simulation.events, bytes: simulation.bytes };
}

/** Stream a simulation into a writable stream (with backpressure), optionally gzipped. */
export async function writeSimulation(
  simulation: Simulation,
  out: NodeJS.WritableStream,
  gzip = false,
): Promise<void> {
  const source = Readable.from(simulation.chunks(), { objectMode: false, highWaterMark: 4 << 20 });
  if (gzip) await pipeline(source, createGzip({ level: 6 }), out);
  else await pipeline(source, out);
}

function validate(o: SimulateOptions): void {
  const check = (name: string, value: number | undefined, min: number, integer: boolean) => {
    if (value === undefined) return;
    if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value)))
      throw new RangeError(
        `simulate: ${name} must be ${integer ? "an integer" : "a number"} >= ${min} (got ${value})`,
      );
  };
  check("seed", o.seed, 0, true);
  check("hosts", o.hosts, 1, true);
  check("days", o.days, 0.01, false);
  check("infected", o.infected, 0, true);
  check("events", o.events, 0, true);
  check("bytes", o.bytes, 0, true);
  check("activityRate", o.activityRate, 0, false);
  check("noise", o.noise, 0, false);
  check("clean3cx", o.clean3cx, 0, false);
  if (o.seed !== undefined && o.seed > 0xffffffff) throw new RangeError("simulate: seed must fit in 32 bits");
  if (o.noise !== undefined && o.noise > 1)
    throw new RangeError("simulate: noise is a fraction between 0 and 1");
  if (o.clean3cx !== undefined && o.clean3cx > 1)
    throw new RangeError("simulate: clean3cx is a fraction between 0 and 1");
  if (o.infected !== undefined && o.infected > (o.hosts ?? 50))
    throw new RangeError(`simulate: infected (${o.infected}) cannot exceed hosts (${o.hosts ?? 50})`);
  if (o.start !== undefined && Number.isNaN(o.start.getTime()))
    throw new RangeError("simulate: start is not a valid date");
}

/**
 * The background activity rate that makes a run reach its events or bytes budget slightly before the end
 * of the window (the budget then cuts the last few percent). Measured with two short pilot runs of a
 * sample of the same fleet: one without background activity (sessions only), one with a known rate.
 */
function activityRateFor(o: SimulateOptions): { rate: number; warnings: string[] } {
  if (o.events === undefined && o.bytes === undefined)
    return { rate: o.activityRate ?? DEFAULT_ACTIVITY_RATE, warnings: [] };
  const hosts = o.hosts ?? 50;
  const days = o.days ?? 14;
  const pilotRate = 150;
  const pilot = (sampleHosts: number, pilotDays: number, rate: number) => {
    const world = new World(
      {
        ...o,
        hosts: sampleHosts,
        days: pilotDays,
        infected: 0,
        events: undefined,
        bytes: undefined,
        recordLookalikes: false,
      },
      rate,
    );
    for (const _ of world.chunks(1 << 20)) {
      // drain: only the counts matter
    }
    return {
      events: world.eventsWritten / (sampleHosts * pilotDays),
      bytes: world.bytesWritten / (sampleHosts * pilotDays),
    };
  };
  // Sessions alone, over (up to) the whole window: the first day alone is not representative.
  const fixed = pilot(Math.min(hosts, 150), Math.min(days, 14), 0);
  // Background per unit of rate, from one busy day (linear in the rate).
  const sample = Math.min(hosts, 300);
  const day = Math.min(1, days);
  const quiet = pilot(sample, day, 0);
  const busy = pilot(sample, day, pilotRate);
  const eventsPerRate = Math.max(1e-9, (busy.events - quiet.events) / pilotRate);
  const bytesPerRate = Math.max(1e-9, (busy.bytes - quiet.bytes) / pilotRate);
  const fleetDays = hosts * days;
  // Aim HEADROOM above the budget in total, so the budget (not the window's end) stops the run.
  const fromEvents =
    o.events !== undefined
      ? ((o.events * HEADROOM) / fleetDays - fixed.events) / eventsPerRate
      : Number.POSITIVE_INFINITY;
  const fromBytes =
    o.bytes !== undefined
      ? ((o.bytes * HEADROOM) / fleetDays - fixed.bytes) / bytesPerRate
      : Number.POSITIVE_INFINITY;
  const rate = Math.min(fromEvents, fromBytes);
  const fixedEvents = fixed.events;
  const fixedBytes = fixed.bytes;
  const warnings: string[] = [];
  if (rate < MIN_ACTIVITY_RATE) {
    // Logon sessions alone (about `fixed` per host-day) need more than the budget: it will end the run early.
    const need =
      o.bytes !== undefined
        ? `${((fixedBytes * fleetDays) / 1e6).toFixed(0)} MB`
        : `${Math.round(fixedEvents * fleetDays)} events`;
    warnings.push(
      `the budget is smaller than what ${hosts} hosts over ${days} days need without background activity (about ${need}); the output will stop early in the window and later attack steps will be missing (use fewer hosts or days, or a larger budget)`,
    );
  }
  return { rate: Math.max(MIN_ACTIVITY_RATE, rate), warnings };
}
