/**
 * Rule packs: a folder of detection-rules TOML files (`rules/**`) plus optional IOC lists, YARA files and a
 * manifest (`pack.toml`, documented in packs/README.md). Bundled packs live in `<package>/packs/<name>/`
 * and are addressed by name; any other pack, rule folder or rule file by path.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, isAbsolute, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, TomlError } from "smol-toml";
import { isQuarryError } from "../diagnostics/index.js";
import { type IndicatorList, loadIndicatorFile } from "../intel/index.js";
import { loadRules } from "./load.js";
import { type AlertSeverity, type DetectionRule, type RuleLoadError, SEVERITIES } from "./types.js";

/** `<package root>/packs`, found from this module's location (dist/src/rules/ or src/rules/), never from cwd. */
export function bundledPacksDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  for (const up of ["../../../packs", "../../packs"]) {
    const candidate = resolve(here, up);
    if (existsSync(join(candidate))) return candidate;
  }
  return resolve(here, "../../../packs");
}

/** Names of the bundled packs (folders under `packs/` holding a `pack.toml`), sorted. */
export function listBundledPacks(): string[] {
  const dir = bundledPacksDir();
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "pack.toml")))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** What a `[[iocs]]` entry says about its list: the rule the list alerts as. */
export interface IocRuleSpec {
  /** Absolute path of the IOC file. */
  readonly file: string;
  readonly ruleId: string;
  readonly name: string;
  readonly severity: AlertSeverity;
  readonly riskScore: number;
  readonly description: string;
}

export interface PackIocList {
  readonly spec: IocRuleSpec;
  /** The IOC rule built from the spec (type `ioc`). */
  readonly rule: DetectionRule;
  readonly list: IndicatorList;
}

export interface Pack {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Absolute folder of the pack (the folder of a single rule file). */
  readonly dir: string;
  /** True for a folder with a `pack.toml`; false for a plain rule folder or file. */
  readonly hasManifest: boolean;
  readonly bundled: boolean;
  readonly rules: readonly DetectionRule[];
  readonly iocs: readonly PackIocList[];
  /** Absolute paths of the pack's YARA files. */
  readonly yara: readonly string[];
  /** Protected rule id -> why exceptions must not be added to it. */
  readonly protectedRules: ReadonlyMap<string, string>;
  readonly constants: Readonly<Record<string, string | number | boolean>>;
  /** Rule files and manifest entries that could not be loaded (the rest of the pack still loads). */
  readonly errors: readonly RuleLoadError[];
  /** Rule files read. */
  readonly files: number;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** A stable rule id for an IOC list named by path only (`--iocs FILE`): a UUID-shaped digest of its name. */
export function iocRuleIdFor(file: string): string {
  const h = createHash("sha256")
    .update(`quarry-ioc:${basename(file)}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The rule an IOC list alerts as. */
export function iocRule(spec: IocRuleSpec, pack?: string): DetectionRule {
  return {
    ruleId: spec.ruleId,
    name: spec.name,
    description: spec.description,
    type: "ioc",
    index: [],
    riskScore: spec.riskScore,
    severity: spec.severity,
    tags: ["Rule Type: Indicator Match", "Quarry: IOC list"],
    threat: [],
    timestampOverrideFallbackDisabled: false,
    maxSignals: 1000,
    from: "now-6m",
    interval: "5m",
    threatIndicatorPath: "threat.indicator",
    threatFilters: [],
    filters: [],
    exceptionsList: [],
    requiredFields: [],
    references: [],
    author: [],
    metadata: {},
    origin: pack !== undefined ? { file: spec.file, pack } : { file: spec.file },
  };
}

/** Default rule metadata for an IOC list loaded with `--iocs FILE`. */
export function defaultIocSpec(file: string): IocRuleSpec {
  return {
    file: resolve(file),
    ruleId: iocRuleIdFor(file),
    name: `IOC match: ${basename(file)}`,
    severity: "high",
    riskScore: 73,
    description: `An event holds an indicator from the IOC list ${basename(file)}.`,
  };
}

/** Load an IOC list as a rule; unreadable files become load errors. */
export async function loadIocList(
  spec: IocRuleSpec,
  pack?: string,
): Promise<{ ioc?: PackIocList; errors: RuleLoadError[] }> {
  try {
    const list = await loadIndicatorFile(spec.file);
    const errors: RuleLoadError[] = list.errors.map((e) => ({
      code: "RULE212",
      file: e.file,
      line: e.line,
      message: `IOC skipped: ${e.message}`,
      explicit: false,
    }));
    return { ioc: { spec, rule: iocRule(spec, pack), list }, errors };
  } catch (error) {
    if (isQuarryError(error))
      return {
        errors: [{ code: "RULE211", file: spec.file, message: error.diagnostic.title, explicit: true }],
      };
    throw error;
  }
}

class ManifestError extends Error {}

function manifestString(t: Table, key: string, where: string, fallback?: string): string {
  const v = t[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "string") throw new ManifestError(`${where}: ${key} must be a string`);
  return v;
}

/** Resolve a path inside the pack, refusing paths that leave it. */
function inside(dir: string, rel: string, where: string): string {
  if (isAbsolute(rel)) throw new ManifestError(`${where}: file must be relative to the pack folder`);
  const full = resolve(dir, rel);
  if (full !== dir && !full.startsWith(dir + sep))
    throw new ManifestError(`${where}: file ${rel} is outside the pack`);
  return full;
}

/**
 * Load a pack by bundled name (`3cx`) or path (a pack folder, a plain folder of rule files, or one rule
 * file). Never throws for bad content: problems are in `errors`. Throws only when nothing is found at
 * all under that name or path (a usage error for the caller).
 */
export async function loadPack(nameOrPath: string): Promise<Pack> {
  const bundled =
    /^[A-Za-z0-9_.-]+$/.test(nameOrPath) &&
    !nameOrPath.startsWith(".") &&
    listBundledPacks().includes(nameOrPath);
  const target = bundled ? join(bundledPacksDir(), nameOrPath) : resolve(nameOrPath);
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(target);
  } catch {
    const names = listBundledPacks();
    throw new PackNotFoundError(
      `no rule pack, folder or file named ${nameOrPath}${names.length ? ` (bundled packs: ${names.join(", ")})` : ""}`,
    );
  }
  if (!stat.isDirectory()) {
    const r = loadRules([target]);
    return {
      name: basename(target),
      version: "",
      description: "",
      dir: resolve(target, ".."),
      hasManifest: false,
      bundled: false,
      rules: r.rules,
      iocs: [],
      yara: [],
      protectedRules: new Map(),
      constants: {},
      errors: r.errors,
      files: r.files,
    };
  }
  const manifestPath = join(target, "pack.toml");
  if (!existsSync(manifestPath)) {
    const r = loadRules([target]);
    return {
      name: basename(target),
      version: "",
      description: "",
      dir: target,
      hasManifest: false,
      bundled: false,
      rules: r.rules,
      iocs: [],
      yara: [],
      protectedRules: new Map(),
      constants: {},
      errors: r.errors,
      files: r.files,
    };
  }
  return loadManifestPack(target, manifestPath, bundled);
}

export class PackNotFoundError extends Error {}

async function loadManifestPack(dir: string, manifestPath: string, bundled: boolean): Promise<Pack> {
  const errors: RuleLoadError[] = [];
  let manifest: Table = {};
  try {
    manifest = parse(readFileSync(manifestPath, "utf8"), { maxDepth: 32 }) as Table;
  } catch (error) {
    if (error instanceof TomlError)
      errors.push({
        code: "RULE210",
        file: manifestPath,
        line: error.line,
        column: error.column,
        message: `not valid TOML: ${error.message.split("\n")[0].replace(/^Invalid TOML document: /, "")}`,
        explicit: true,
      });
    else
      errors.push({ code: "RULE210", file: manifestPath, message: (error as Error).message, explicit: true });
  }
  const problem = (message: string) =>
    errors.push({ code: "RULE210", file: manifestPath, message, explicit: true });
  const name = typeof manifest.name === "string" ? manifest.name : basename(dir);
  const version = typeof manifest.version === "string" ? manifest.version : "";
  const description = typeof manifest.description === "string" ? manifest.description : "";
  const rulesDir = join(dir, "rules");
  const ruleResult = existsSync(rulesDir)
    ? loadRules([rulesDir], { pack: name })
    : { rules: [], errors: [], files: 0 };
  errors.push(...ruleResult.errors);
  const iocs: PackIocList[] = [];
  const iocEntries =
    manifest.iocs === undefined ? [] : Array.isArray(manifest.iocs) ? manifest.iocs : [manifest.iocs];
  const ruleIds = new Set(ruleResult.rules.map((r) => r.ruleId));
  for (const [i, entry] of iocEntries.entries()) {
    const where = `iocs[${i}]`;
    try {
      if (!isTable(entry)) throw new ManifestError(`${where} must be a table`);
      const file = inside(dir, manifestString(entry, "file", where), where);
      const severity = manifestString(entry, "severity", where, "high").toLowerCase();
      if (!SEVERITIES.includes(severity as AlertSeverity))
        throw new ManifestError(`${where}: severity must be low, medium, high or critical`);
      const risk = entry.risk_score ?? 73;
      if (typeof risk !== "number" || risk < 0 || risk > 100)
        throw new ManifestError(`${where}: risk_score must be a number from 0 to 100`);
      const spec: IocRuleSpec = {
        file,
        ruleId: manifestString(entry, "rule_id", where, iocRuleIdFor(file)),
        name: manifestString(entry, "name", where, `IOC match: ${basename(file)}`),
        severity: severity as AlertSeverity,
        riskScore: risk,
        description: manifestString(entry, "description", where, ""),
      };
      if (ruleIds.has(spec.ruleId))
        throw new ManifestError(`${where}: rule_id ${spec.ruleId} is already used`);
      ruleIds.add(spec.ruleId);
      const loaded = await loadIocList(spec, name);
      errors.push(...loaded.errors);
      if (loaded.ioc) iocs.push(loaded.ioc);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      problem(error.message);
    }
  }
  const yara: string[] = [];
  const yaraEntries =
    manifest.yara === undefined ? [] : Array.isArray(manifest.yara) ? manifest.yara : [manifest.yara];
  for (const [i, entry] of yaraEntries.entries()) {
    try {
      if (!isTable(entry)) throw new ManifestError(`yara[${i}] must be a table`);
      const file = inside(dir, manifestString(entry, "file", `yara[${i}]`), `yara[${i}]`);
      if (!existsSync(file)) throw new ManifestError(`yara[${i}]: ${file} does not exist`);
      yara.push(file);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      problem(error.message);
    }
  }
  const protectedRules = new Map<string, string>();
  const protectedEntries =
    manifest.protected === undefined
      ? []
      : Array.isArray(manifest.protected)
        ? manifest.protected
        : [manifest.protected];
  for (const [i, entry] of protectedEntries.entries()) {
    if (!isTable(entry)) {
      problem(`protected[${i}] must be a table`);
      continue;
    }
    const reason = typeof entry.reason === "string" ? entry.reason : "marked protected by the pack";
    const ids = entry.rule_ids;
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== "string")) {
      problem("protected.rule_ids must be a list of rule ids");
      continue;
    }
    for (const id of ids as string[]) {
      if (!ruleIds.has(id)) problem(`protected rule_id ${id} is not a rule of this pack`);
      protectedRules.set(id, reason);
    }
  }
  const constants: Record<string, string | number | boolean> = {};
  if (manifest.constants !== undefined) {
    if (!isTable(manifest.constants)) problem("[constants] must be a table");
    else
      for (const [k, v] of Object.entries(manifest.constants)) {
        if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") constants[k] = v;
        else if (typeof v === "bigint") constants[k] = Number(v);
        else problem(`constants.${k} must be a string, number or boolean`);
      }
  }
  return {
    name,
    version,
    description,
    dir,
    hasManifest: true,
    bundled,
    rules: ruleResult.rules,
    iocs,
    yara,
    protectedRules,
    constants,
    errors,
    files: ruleResult.files,
  };
}
