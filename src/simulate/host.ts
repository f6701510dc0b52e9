/**
 * One simulated machine: who uses it, what it runs, when its user is logged on, and (on some hosts) a 3CX
 * install and an infection in progress. Built once per host from the fleet's random stream.
 */
import type { Binary, Digests, Library, Os, Signature } from "./catalog.js";
import type { HostIdentity, ProcessView } from "./render.js";
import type { InstallerBuild } from "./threat.js";

export type VariantName =
  | "windows-full"
  | "windows-update"
  | "macos-full"
  | "unknown-dll"
  | "timer-pending"
  | "installer-only";

/** Every infection variant, in the order they are handed out (so N >= 6 infected hosts cover them all). */
export const VARIANTS: readonly VariantName[] = [
  "windows-full",
  "macos-full",
  "unknown-dll",
  "timer-pending",
  "installer-only",
  "windows-update",
];

export const VARIANT_DESCRIPTIONS: Readonly<Record<VariantName, string>> = {
  "windows-full":
    "trojanised MSI (18.12.407 or 18.12.416) downloaded and installed; ffmpeg.dll and d3dcompiler_47.dll loaded; manifest written; after the ~7-day timer, IconStorages .ico fetch, C2 beacons, a Defend shellcode alert",
  "windows-update":
    "a clean pre-compromise 3CX updates itself through update.exe to the trojanised 18.12.416, then the Windows chain",
  "macos-full":
    "trojanised DMG downloaded; libffmpeg.dylib loaded; .main_storage and .session-lock written; beacons; UpdateAgent written, run, POST to sbmsa.wiki, deleted",
  "unknown-dll":
    "a rebuilt installer whose ffmpeg.dll and d3dcompiler_47.dll are unknown builds (no published hash): only behaviour reveals it",
  "timer-pending":
    "trojanised build installed and running but the 7-day timer has not expired by the end of the data: no beacon yet",
  "installer-only": "a trojanised MSI or DMG downloaded but never run (the file is on disk)",
};

/** One 3CX Desktop App install: which build, which files. */
export interface ThreeCxInstall {
  readonly version: string;
  /** clean: a genuine build; trojanised: a published malicious build; unknown: a malicious build with no published hash. */
  readonly build: "clean" | "trojanised" | "unknown";
  readonly clientDigests: Digests;
  readonly clientSignature: Signature;
  /** The libraries the client loads from its own folder, with the role of each in the chain (if any). */
  readonly libraries: readonly InstalledLibrary[];
}

export interface InstalledLibrary {
  readonly library: Library;
  readonly digests: Digests;
  readonly signature: Signature;
  readonly role?: string;
  /** `"dll":{...}`, rendered once. */
  readonly json: string;
}

export interface Infection {
  readonly variant: VariantName;
  /** The published build (absent for unknown-dll, which uses stand-in hashes). */
  readonly build?: InstallerBuild;
  readonly installAt: number;
  /** When the manifest timer expires (Windows) or the first beacon is due (macOS). */
  timerAt: number;
  readonly iconIndex: number;
  readonly c2Url: string;
  /** Defend memory protection: off, detect-only, or prevent. */
  readonly memoryProtection: "off" | "detect" | "prevent";
  readonly handsOnKeyboard: boolean;
  installed: boolean;
  manifestWritten: boolean;
  alerted: boolean;
  blocked: boolean;
  beacons: number;
  updateAgentDone: boolean;
  /** Chain events actually written. */
  emitted: number;
}

export interface RunningApp {
  readonly key: string;
  readonly view: ProcessView;
  readonly endAt: number;
}

export interface Session {
  readonly start: number;
  readonly end: number;
  readonly shell: ProcessView;
  readonly apps: RunningApp[];
  browser?: RunningApp;
  threeCx?: RunningApp;
}

export class HostState {
  readonly index: number;
  readonly os: Os;
  readonly identity: HostIdentity;
  readonly agentId: string;
  readonly home: string;
  readonly tzHours: number;
  readonly logonHour: number;
  readonly sessionHours: number;
  readonly developer: boolean;
  readonly apps: readonly string[];
  readonly browserKey: string;
  readonly system = new Map<string, ProcessView>();
  readonly activityTask: () => void;
  session: Session | null = null;
  nextLogonAt = 0;
  threeCx: ThreeCxInstall | null = null;
  infection: Infection | null = null;
  /** What the truth file says this host is: a variant name, "clean-3cx" or "none". */
  label: string;
  pidNext: number;
  /** Source ports handed out in order. */
  portNext: number;

  constructor(init: {
    index: number;
    os: Os;
    identity: HostIdentity;
    agentId: string;
    home: string;
    tzHours: number;
    logonHour: number;
    sessionHours: number;
    developer: boolean;
    apps: string[];
    browserKey: string;
    label: string;
    pidStart: number;
    activityTask: (host: HostState) => void;
  }) {
    this.index = init.index;
    this.os = init.os;
    this.identity = init.identity;
    this.agentId = init.agentId;
    this.home = init.home;
    this.tzHours = init.tzHours;
    this.logonHour = init.logonHour;
    this.sessionHours = init.sessionHours;
    this.developer = init.developer;
    this.apps = init.apps;
    this.browserKey = init.browserKey;
    this.label = init.label;
    this.pidNext = init.pidStart;
    this.portNext = 49152 + (init.index % 1000) * 13;
    const task = init.activityTask;
    this.activityTask = () => task(this);
  }

  get name(): string {
    return this.identity.name;
  }

  /** The executable path of a catalog binary on this host. */
  pathOf(binary: Binary): string {
    return binary.path.replace("{home}", this.home);
  }

  nextPid(stepMax: number): number {
    const limit = this.os === "windows" ? 65532 : 99998;
    this.pidNext +=
      this.os === "windows" ? 4 * (1 + ((this.pidNext * 7) % stepMax)) : 1 + ((this.pidNext * 7) % stepMax);
    if (this.pidNext > limit) this.pidNext = this.os === "windows" ? 1000 : 400;
    return this.pidNext;
  }

  nextPort(): number {
    this.portNext = this.portNext >= 65000 ? 49152 : this.portNext + 1;
    return this.portNext;
  }
}
