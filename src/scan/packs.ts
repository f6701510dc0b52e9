/**
 * Which bundled content `quarry scan` uses: `--rules NAME` (a bundled pack under packs/), `--rules PATH` (a
 * pack folder elsewhere) or `--rules none`. From a pack, scan takes its YARA files and its IOC lists.
 *
 * The manifest `pack.toml` names them: IOC lists as `[[iocs]] file = "..."`; YARA files as
 * `[[yara]] file = "..."` or `yara = ["..."]` (or `[yara] files = [...]`). A pack whose manifest names no
 * YARA files contributes every `.yar`/`.yara` under its `yara/` folder; one whose manifest names no IOC
 * lists contributes the files of its `iocs/` folder. Paths in the manifest are relative to the pack.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { RULE_FILE_EXTENSIONS } from "./rules.js";

export interface PackContent {
  readonly name: string;
  readonly root: string;
  readonly yaraFiles: readonly string[];
  readonly iocFiles: readonly string[];
}

export class PackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PackError";
  }
}

/** packs/ at the repository root (this module runs from dist/src/scan/ or src/scan/). */
export function bundledPacksDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../../../packs", "../../packs"]) {
    const dir = resolve(here, up);
    if (existsSync(dir)) return dir;
  }
  return resolve(here, "../../../packs");
}

export const DEFAULT_PACK = "3cx";

function stringsOf(value: unknown, key: string): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const item of value) {
      if (typeof item === "string") out.push(item);
      else if (
        item &&
        typeof item === "object" &&
        typeof (item as Record<string, unknown>)[key] === "string"
      ) {
        out.push((item as Record<string, string>)[key]);
      }
    }
    return out;
  }
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v.files)) return stringsOf(v.files, key);
    if (typeof v.file === "string") return [v.file];
  }
  return [];
}

function filesUnder(dir: string, accept: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 16) return;
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith(".")) continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, depth + 1);
      else if (st.isFile() && accept(name)) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}

const isRuleFile = (name: string) => RULE_FILE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e));
const isIocFile = (name: string) =>
  /\.(csv|txt|json|stix|ioc|yml|yaml)$/i.test(name) && !/^readme/i.test(name);

/** Resolve `--rules` to the pack's content; `none` gives null. Throws `PackError` for an unknown pack. */
export function resolvePack(spec: string): PackContent | null {
  if (spec === "none") return null;
  const looksLikePath = spec.includes("/") || spec.includes("\\") || spec.startsWith(".");
  const root = looksLikePath ? resolve(spec) : join(bundledPacksDir(), spec);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    const bundled = existsSync(bundledPacksDir())
      ? readdirSync(bundledPacksDir()).filter((n) => statSync(join(bundledPacksDir(), n)).isDirectory())
      : [];
    throw new PackError(
      looksLikePath
        ? `--rules ${spec}: not a pack folder`
        : `--rules ${spec}: no bundled pack of that name (bundled: ${bundled.join(", ") || "none"}; or give a path, or none)`,
    );
  }
  let manifest: Record<string, unknown> = {};
  const manifestPath = join(root, "pack.toml");
  if (existsSync(manifestPath)) {
    try {
      manifest = parseToml(readFileSync(manifestPath, "utf8")) as Record<string, unknown>;
    } catch (error) {
      throw new PackError(`${manifestPath}: ${(error as Error).message}`);
    }
  }
  const rel = (p: string) => (isAbsolute(p) ? p : join(root, p));
  const declaredYara = stringsOf(manifest.yara, "file").map(rel);
  const declaredIocs = stringsOf(manifest.iocs, "file").map(rel);
  const yaraFiles = declaredYara.length > 0 ? declaredYara : filesUnder(join(root, "yara"), isRuleFile);
  const iocFiles = declaredIocs.length > 0 ? declaredIocs : filesUnder(join(root, "iocs"), isIocFile);
  const name = typeof manifest.name === "string" ? manifest.name : looksLikePath ? root : spec;
  return { name, root, yaraFiles, iocFiles };
}
