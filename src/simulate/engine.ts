/**
 * The simulation engine: a single time-ordered queue of scheduled work (sessions, activities, attack
 * steps) and of rendered-on-demand events. Popping the queue in (time, insertion) order yields events in
 * time order across the whole fleet while holding only what is scheduled but not yet due, so memory depends
 * on the fleet's size, never on how much is generated.
 */
import { activity, startSession } from "./background.js";
import {
  type Binary,
  DEPARTMENTS,
  type Digests,
  FIRST_NAMES,
  LAST_NAMES,
  MAC,
  type Os,
  type Signature,
  WIN,
} from "./catalog.js";
import { TimeHeap } from "./heap.js";
import { HostState, VARIANTS, type VariantName } from "./host.js";
import { planInfection, setUpThreeCx } from "./infection.js";
import { Noise } from "./noise.js";
import { Random } from "./prng.js";
import {
  hostIdentity,
  type ProcessView,
  processEnd,
  processStart,
  processView,
  type Render,
  TimestampFormatter,
} from "./render.js";

export interface SimulateOptions {
  /** Seed of every random choice (default 1). The same options give the same bytes. */
  readonly seed?: number;
  /** Number of hosts (default 50). */
  readonly hosts?: number;
  /** Days covered (default 14: long enough for the 7-day timer). */
  readonly days?: number;
  /** Infected hosts (default: one per variant, at most `hosts`). Variants are handed out in turn. */
  readonly infected?: number;
  /** Stop after exactly this many events. */
  readonly events?: number;
  /** Stop once this many bytes (UTF-8, newlines included) are written. */
  readonly bytes?: number;
  /** First instant covered (default 2023-03-15T00:00:00Z). */
  readonly start?: Date;
  /** Infection variants to use (default: all). */
  readonly variants?: readonly VariantName[];
  /** Fraction of hosts (not infected) with a clean 3CX install (default 0.25). */
  readonly clean3cx?: number;
  /**
   * Background activities per host per day at full (working-hours) intensity when neither `events` nor
   * `bytes` is given (default 60, about 200 events per host-day).
   */
  readonly activityRate?: number;
  /** Fraction of background lines turned into parser-testing noise (default 0: none). */
  readonly noise?: number;
  /** Also record look-alike events (clean 3CX, git, look-alike domains, ...) in the truth, as `lookalike:<what>`. */
  readonly recordLookalikes?: boolean;
}

export interface HostTruth {
  readonly compromised: boolean;
  readonly variant: string;
  readonly os: Os;
}

export interface SimulationTruth {
  readonly seed: number;
  readonly start: string;
  readonly end: string;
  readonly hosts: Record<string, HostTruth>;
  /** `event.id` -> role in the chain (or `lookalike:<what>` when asked for). */
  readonly events: Record<string, string>;
}

interface Item {
  readonly t: number;
  readonly seq: number;
  readonly render: Render | null;
  readonly run: (() => void) | null;
  readonly role: string | null;
  readonly host: HostState | null;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export class World {
  readonly seed: number;
  readonly options: SimulateOptions;
  readonly rng: Random;
  readonly startMs: number;
  readonly endMs: number;
  readonly hosts: HostState[] = [];
  readonly recordLookalikes: boolean;
  readonly truthEvents: Record<string, string> = Object.create(null);
  /** The time of the item being processed. */
  now = 0;
  eventsWritten = 0;
  bytesWritten = 0;
  private readonly heap = new TimeHeap<Item>();
  private seq = 0;
  private idCounter = 0;
  private readonly idPrefix: string;
  private readonly formatter = new TimestampFormatter();
  private readonly meanGapMs: number;
  private readonly noise: Noise | null;
  private readonly maxEvents: number;
  private readonly maxBytes: number;

  constructor(options: SimulateOptions, activityRate: number) {
    this.options = options;
    this.seed = options.seed ?? 1;
    this.rng = new Random(this.seed, "activity");
    this.startMs = (options.start ?? new Date("2023-03-15T00:00:00Z")).getTime();
    const days = options.days ?? 14;
    this.endMs = this.startMs + Math.round(days * DAY);
    this.recordLookalikes = options.recordLookalikes === true;
    this.meanGapMs = activityRate > 0 ? DAY / activityRate : Number.POSITIVE_INFINITY;
    this.noise =
      options.noise && options.noise > 0 ? new Noise(options.noise, new Random(this.seed, "noise")) : null;
    this.maxEvents = options.events ?? Number.POSITIVE_INFINITY;
    this.maxBytes = options.bytes ?? Number.POSITIVE_INFINITY;
    const idRandom = new Random(this.seed, "ids");
    let prefix = "";
    for (let i = 0; i < 10; i++) prefix += ID_ALPHABET[idRandom.next() & 63];
    this.idPrefix = prefix;
    this.buildFleet();
  }

  // ---- scheduling ----

  /** Schedule an event; `role` marks it in the truth (chain roles count towards the host's compromise). */
  emit(t: number, host: HostState, render: Render, role?: string): void {
    this.heap.push({ t: Math.floor(t), seq: this.seq++, render, run: null, role: role ?? null, host });
  }

  /** Schedule a look-alike event (its role is recorded only when asked for). */
  emitLookalike(t: number, host: HostState, render: Render, what: string): void {
    this.emit(t, host, render, this.recordLookalikes ? `lookalike:${what}` : undefined);
  }

  /** Run `fn` at time `t` (it may schedule more work at or after `t`). */
  at(t: number, run: () => void): void {
    this.heap.push({ t: Math.floor(t), seq: this.seq++, render: null, run, role: null, host: null });
  }

  nextActivityGap(): number {
    return this.rng.exponential(this.meanGapMs);
  }

  // ---- processes ----

  /** Start a process: returns its view and schedules its start event. */
  spawn(
    host: HostState,
    binary: Binary,
    t: number,
    args: readonly string[],
    parent: ProcessView | undefined,
    extra: {
      role?: string;
      lookalike?: string;
      system?: boolean;
      digests?: Digests;
      signature?: Signature;
      version?: string;
      executable?: string;
      workingDirectory?: string;
      quiet?: boolean;
    } = {},
  ): ProcessView {
    const pid = host.nextPid(host.os === "windows" ? 300 : 40);
    const executable = extra.executable ?? host.pathOf(binary);
    const entityId = Buffer.from(`${host.agentId}-${pid}-${Math.floor(t)}`).toString("base64");
    const view = processView({
      entityId,
      pid,
      binary,
      executable,
      args: args.length > 0 ? args : [executable],
      parent,
      workingDirectory:
        extra.workingDirectory ??
        (host.os === "windows"
          ? extra.system
            ? "C:\\Windows\\system32\\"
            : `${host.home}\\`
          : extra.system
            ? "/"
            : host.home),
      userJson: extra.system ? host.identity.systemUserJson : host.identity.userJson,
      digests: extra.digests,
      signature: extra.signature,
      version: extra.version,
    });
    if (!extra.quiet) {
      const render = processStart(host.identity, view);
      if (extra.lookalike) this.emitLookalike(t, host, render, extra.lookalike);
      else this.emit(t, host, render, extra.role);
    }
    return view;
  }

  end(host: HostState, view: ProcessView, t: number, role?: string, exitCode = 0): void {
    this.emit(t, host, processEnd(host.identity, view, exitCode), role);
  }

  bin(host: HostState, key: string): Binary {
    const b = host.os === "windows" ? WIN[key] : MAC[key];
    if (!b) throw new Error(`simulate: no ${host.os} binary ${key}`);
    return b;
  }

  // ---- fleet ----

  private buildFleet(): void {
    const options = this.options;
    const fleet = new Random(this.seed, "fleet");
    const count = Math.max(1, Math.floor(options.hosts ?? 50));
    const variants = options.variants && options.variants.length > 0 ? options.variants : VARIANTS;
    const infected = Math.min(
      count,
      Math.max(0, Math.floor(options.infected ?? Math.min(count, variants.length))),
    );
    // Infected hosts: a deterministic sample of indices; variants handed out in turn.
    const order = Array.from({ length: count }, (_, i) => i);
    for (let i = count - 1; i > 0; i--) {
      const j = fleet.int(0, i);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const variantOf = new Map<number, VariantName>();
    for (let k = 0; k < infected; k++) variantOf.set(order[k], variants[k % variants.length]);
    const cleanShare = options.clean3cx ?? 0.25;
    const domainSid = `S-1-5-21-${fleet.int(1_000_000_000, 4_000_000_000)}-${fleet.int(1_000_000_000, 4_000_000_000)}-${fleet.int(100_000_000, 999_999_999)}`;
    const names = new Set<string>();
    for (let index = 0; index < count; index++) {
      const r = fleet.fork(`host${index}`);
      const variant = variantOf.get(index);
      const os: Os = variant
        ? variant === "macos-full"
          ? "macos"
          : variant === "installer-only"
            ? r.chance(0.5)
              ? "macos"
              : "windows"
            : "windows"
        : r.chance(0.25)
          ? "macos"
          : "windows";
      const first = r.pick(FIRST_NAMES);
      const last = r.pick(LAST_NAMES);
      const userName = os === "windows" ? `${first[0]}${last}` : `${first}.${last}`;
      const dept = r.pick(DEPARTMENTS);
      let name = os === "windows" ? `WS-${dept}-${String(1000 + index)}` : `${first}-${last}-mbp`;
      if (names.has(name)) name = `${name}-${index}`;
      names.add(name);
      const agentId = uuid(r);
      const identity = hostIdentity({
        name,
        os,
        agentId,
        hostId: os === "windows" ? uuid(r) : uuid(r).toUpperCase(),
        ip: `10.${20 + (index >> 16)}.${(index >> 8) & 255}.${index & 255 || 254}`,
        mac: Array.from({ length: 6 }, (_, i) =>
          (i === 0 ? 0 : r.int(0, 255)).toString(16).padStart(2, "0"),
        ).join(os === "windows" ? "-" : ":"),
        osVariant:
          os === "windows"
            ? r.pick(["Windows 10 Enterprise", "Windows 10 Pro", "Windows 11 Enterprise"])
            : "Darwin",
        osVersion: os === "windows" ? "22H2" : r.pick(["13.2.1", "12.6.3", "13.3"]),
        osBuild:
          os === "windows" ? r.pick(["10.0.19045.2728", "10.0.22621.1413", "10.0.19045.2673"]) : "22.3.0",
        userName,
        userId: os === "windows" ? `${domainSid}-${1100 + index}` : "501",
        domain: "ACME",
      });
      const developer = dept === "ENG" || dept === "IT" || r.chance(0.1);
      const apps = pickApps(r, os, developer);
      const host = new HostState({
        index,
        os,
        identity,
        agentId,
        home: os === "windows" ? `C:\\Users\\${userName}` : `/Users/${userName}`,
        tzHours: r.pick([-5, -5, -6, -8, 0, 1, 1, 2]),
        logonHour: r.normal(8.4, 0.5),
        sessionHours: r.normal(9, 0.7),
        developer,
        apps,
        browserKey:
          os === "windows" ? (r.chance(0.6) ? "chrome" : "msedge") : r.chance(0.5) ? "safari" : "chrome",
        label: variant ?? "none",
        pidStart: os === "windows" ? r.int(2000, 9000) * 4 : r.int(500, 5000),
        activityTask: (h) => activity(this, h),
      });
      this.hosts.push(host);
      this.startSystemProcesses(host, r);
      const clean3cx = !variant && r.chance(cleanShare);
      const firstChainDay = variant ? planInfection(this, host, variant, r) : 0;
      if (clean3cx) setUpThreeCx(this, host, r);
      // Sessions from the day before the window (or before the infection's first step) to the end.
      const firstDay = Math.min(-1, Math.floor(firstChainDay) - 1);
      const dayCount = Math.ceil((this.endMs - this.startMs) / DAY) + 1;
      this.scheduleLogon(host, firstDay, dayCount);
      this.at(this.startMs + this.nextActivityGap(), host.activityTask);
    }
  }

  /** Long-running system processes, started before the window (no start events). */
  private startSystemProcesses(host: HostState, r: Random): void {
    const boot = this.startMs - r.int(1, 5) * DAY - r.int(0, 20) * HOUR;
    const keys =
      host.os === "windows"
        ? [
            "services",
            "winlogon",
            "svchost",
            "msmpeng",
            "searchindexer",
            "endpoint",
            "edgeupdate",
            "wmiprvse",
          ]
        : ["launchd", "loginwindow", "trustd", "nsurlsessiond", "cloudd", "softwareupdated", "endpoint"];
    let parent: ProcessView | undefined;
    for (const key of keys) {
      const binary = this.bin(host, key);
      const view = this.spawn(host, binary, boot + r.int(1000, 60000), [host.pathOf(binary)], parent, {
        system: true,
        quiet: true,
      });
      host.system.set(key, view);
      if (key === "services" || key === "launchd") parent = view;
    }
  }

  private scheduleLogon(host: HostState, day: number, lastDay: number): void {
    if (day > lastDay) return;
    const jitter = this.rng.normal(0, 0.25);
    const logon = this.startMs + day * DAY + (host.logonHour + jitter - host.tzHours) * HOUR;
    host.nextLogonAt = logon;
    this.at(logon, () => {
      const hours = Math.max(4, host.sessionHours + this.rng.normal(0, 0.5));
      startSession(this, host, this.now, this.now + hours * HOUR);
      this.scheduleLogon(host, day + 1, lastDay);
    });
  }

  // ---- output ----

  /**
   * The next line in time order (without its newline), or undefined at the end of the window or of the
   * events/bytes budget. The caller adds the line's bytes to `bytesWritten`.
   */
  next(): string | undefined {
    const heap = this.heap;
    const end = this.endMs;
    const start = this.startMs;
    for (;;) {
      if (this.eventsWritten >= this.maxEvents || this.bytesWritten >= this.maxBytes) return undefined;
      const item = heap.pop();
      if (item === undefined || item.t >= end) return undefined;
      this.now = item.t;
      if (item.run !== null) {
        item.run();
        continue;
      }
      if (item.t < start || item.render === null) continue;
      const id = this.nextId();
      let line = item.render(id, this.formatter.format(item.t));
      const role = item.role;
      if (role !== null) {
        this.truthEvents[id] = role;
        const infection = item.host?.infection;
        if (infection && !role.startsWith("lookalike:")) infection.emitted++;
      } else if (this.noise !== null) {
        line = this.noise.apply(line);
      }
      this.eventsWritten++;
      return line;
    }
  }

  /** Every line, in time order. */
  *lines(): Generator<string> {
    for (let line = this.next(); line !== undefined; line = this.next()) {
      this.bytesWritten += Buffer.byteLength(line, "utf8") + 1;
      yield line;
    }
  }

  /** NDJSON encoded straight into buffers of about `chunkBytes` (no intermediate joined strings). */
  *chunks(chunkBytes: number): Generator<Buffer> {
    let buffer = Buffer.allocUnsafe(chunkBytes + 65536);
    let offset = 0;
    for (let line = this.next(); line !== undefined; line = this.next()) {
      const worst = line.length * 3 + 1;
      if (offset + worst > buffer.length) {
        if (offset > 0) yield buffer.subarray(0, offset);
        buffer = Buffer.allocUnsafe(Math.max(chunkBytes + 65536, worst));
        offset = 0;
      }
      const n = buffer.write(line, offset, "utf8");
      buffer[offset + n] = 10;
      offset += n + 1;
      this.bytesWritten += n + 1;
      if (offset >= chunkBytes) {
        yield buffer.subarray(0, offset);
        buffer = Buffer.allocUnsafe(chunkBytes + 65536);
        offset = 0;
      }
    }
    if (offset > 0) yield buffer.subarray(0, offset);
  }

  truth(): SimulationTruth {
    const hosts: Record<string, HostTruth> = {};
    for (const h of this.hosts) {
      const infection = h.infection;
      hosts[h.name] = {
        compromised: infection !== null && infection.emitted > 0,
        variant: h.label,
        os: h.os,
      };
    }
    return {
      seed: this.seed,
      start: new Date(this.startMs).toISOString(),
      end: new Date(this.endMs).toISOString(),
      hosts,
      events: this.truthEvents,
    };
  }

  private nextId(): string {
    let n = this.idCounter++;
    let tail = "";
    for (let i = 0; i < 8; i++) {
      tail = ID_ALPHABET[n & 63] + tail;
      n = Math.floor(n / 64);
    }
    return this.idPrefix + tail;
  }
}

function uuid(r: Random): string {
  const h = r.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[r.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function pickApps(r: Random, os: Os, developer: boolean): string[] {
  const apps: string[] = [];
  const add = (key: string, p: number) => {
    if (r.chance(p)) apps.push(key);
  };
  if (os === "windows") {
    add("onedrive", 0.9);
    add("teams", 0.8);
    add("outlook", 0.75);
    add("slack", 0.3);
    add("zoom", 0.35);
    add("discord", 0.05);
    add("signal", 0.06);
    add("logioptions", 0.2);
    if (developer) add("code", 0.8);
  } else {
    add("slack", 0.45);
    add("zoom", 0.4);
    add("teams", 0.5);
    add("outlook", 0.5);
    if (developer) add("terminal", 0.9);
  }
  return apps;
}
