/**
 * The key material triage decodes with, read from a pack's `pack.toml` `[constants]` table (the bundled
 * 3CX pack by default): `rc4_key` (the carrier's RC4 key, as text), `ico_aes_key_hex` (32-byte AES-256-GCM
 * key of the ICO tails), `ico_aes_nonce_hex` (their 12-byte GCM nonce) and `macos_xor_key` (the byte
 * `.main_storage` is XORed with). The pack is where published facts are maintained, so triage reads them
 * from there; the constants in constants.ts are used only for a value the pack does not carry (or when no
 * pack is installed at all). A value that is present but malformed is an error (TRIAGE040) naming the
 * file, line and what was expected: silently decoding with another key would hide the mistake.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { type DiagnosticLabel, QuarryError } from "../diagnostics/index.js";
import { CARRIER_RC4_KEY, ICO_AES_KEY, ICO_GCM_NONCE, MAIN_STORAGE_XOR_KEY } from "./constants.js";

export interface TriageKeys {
  readonly rc4Key: Uint8Array;
  readonly icoKey: Uint8Array;
  readonly icoNonce: Uint8Array;
  readonly macosXorKey: number;
  /** Where each value came from: the manifest path, or `built-in` for a value the pack lacks. */
  readonly sources: {
    readonly rc4Key: string;
    readonly icoKey: string;
    readonly icoNonce: string;
    readonly macosXorKey: string;
  };
}

/** The bundled 3CX pack's folder (this module runs from dist/src/triage/ or src/triage/). */
export function bundledThreeCxPack(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../../../packs/3cx", "../../packs/3cx"]) {
    const dir = resolve(here, up);
    if (existsSync(dir)) return dir;
  }
  return resolve(here, "../../../packs/3cx");
}

const BUILT_IN = "built-in";

function builtInKeys(): TriageKeys {
  return {
    rc4Key: CARRIER_RC4_KEY,
    icoKey: ICO_AES_KEY,
    icoNonce: ICO_GCM_NONCE,
    macosXorKey: MAIN_STORAGE_XOR_KEY,
    sources: { rc4Key: BUILT_IN, icoKey: BUILT_IN, icoNonce: BUILT_IN, macosXorKey: BUILT_IN },
  };
}

/** `TRIAGE040`: the pack's manifest or one of its key values is malformed. */
function packError(path: string, text: string, title: string, key?: string): QuarryError {
  const labels: DiagnosticLabel[] = [];
  if (key !== undefined) {
    const at = findKey(text, key);
    if (at) labels.push({ span: at, text: "this value", primary: true });
  }
  return new QuarryError(
    {
      code: "TRIAGE040",
      severity: "error",
      title: `${path}: ${title}`,
      labels,
      help: "fix the pack's [constants] value, or pass --key/--nonce to override it",
    },
    text,
    path,
  );
}

/** Span of `key = value` in the manifest (smol-toml gives no positions); a plain line scan, linear. */
function findKey(text: string, key: string): { start: number; end: number } | undefined {
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd);
    const trimmed = line.trimStart();
    if (trimmed.startsWith(key)) {
      const rest = trimmed.slice(key.length).trimStart();
      if (rest.startsWith("=")) {
        const start = lineStart + (line.length - trimmed.length);
        return { start, end: lineEnd };
      }
    }
    lineStart = lineEnd + 1;
  }
  return undefined;
}

/** Hex digits (optionally `0x`-prefixed) of exactly `bytes` bytes, else null. */
function hexBytes(value: string, bytes: number): Uint8Array | null {
  const digits = value.trim().replace(/^0x/i, "");
  if (digits.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(digits)) return null;
  return Uint8Array.from(Buffer.from(digits, "hex"));
}

/**
 * Reads the key material from `packDir/pack.toml` (default: the bundled 3CX pack). No manifest at all:
 * the built-in constants. Throws `QuarryError` TRIAGE040 when the manifest does not parse or a key value
 * is present but malformed.
 */
export function loadTriageKeys(packDir: string = bundledThreeCxPack()): TriageKeys {
  const path = join(packDir, "pack.toml");
  if (!existsSync(path)) return builtInKeys();
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw packError(path, "", `cannot read the pack manifest: ${(error as Error).message}`);
  }
  let manifest: Record<string, unknown>;
  try {
    manifest = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw packError(path, text, `the pack manifest is not valid TOML: ${(error as Error).message}`);
  }
  const table = manifest.constants;
  if (table === undefined) return builtInKeys();
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw packError(path, text, "[constants] must be a table", "constants");
  }
  const constants = table as Record<string, unknown>;
  const keys = builtInKeys();
  const sources = { ...keys.sources };
  let { rc4Key, icoKey, icoNonce, macosXorKey } = keys;

  const rc4 = constants.rc4_key;
  if (rc4 !== undefined) {
    // Every character must be one byte: the key is the ASCII text itself, no terminator.
    if (typeof rc4 !== "string" || rc4.length < 1 || rc4.length > 256 || /[^\x00-\xff]/.test(rc4)) {
      throw packError(
        path,
        text,
        "constants.rc4_key must be a string of 1 to 256 single-byte characters (the RC4 key's bytes)",
        "rc4_key",
      );
    }
    rc4Key = Uint8Array.from(Buffer.from(rc4, "latin1"));
    sources.rc4Key = path;
  }
  const aes = constants.ico_aes_key_hex;
  if (aes !== undefined) {
    const bytes = typeof aes === "string" ? hexBytes(aes, 32) : null;
    if (!bytes) {
      throw packError(
        path,
        text,
        "constants.ico_aes_key_hex must be 64 hex digits (a 32-byte AES-256 key)",
        "ico_aes_key_hex",
      );
    }
    icoKey = bytes;
    sources.icoKey = path;
  }
  const nonce = constants.ico_aes_nonce_hex;
  if (nonce !== undefined) {
    const bytes = typeof nonce === "string" ? hexBytes(nonce, 12) : null;
    if (!bytes) {
      throw packError(
        path,
        text,
        "constants.ico_aes_nonce_hex must be 24 hex digits (the 12-byte GCM nonce)",
        "ico_aes_nonce_hex",
      );
    }
    icoNonce = bytes;
    sources.icoNonce = path;
  }
  const xor = constants.macos_xor_key;
  if (xor !== undefined) {
    const n = typeof xor === "bigint" ? Number(xor) : xor;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 255) {
      throw packError(
        path,
        text,
        "constants.macos_xor_key must be an integer from 0 to 255 (one byte)",
        "macos_xor_key",
      );
    }
    macosXorKey = n;
    sources.macosXorKey = path;
  }
  return { rc4Key, icoKey, icoNonce, macosXorKey, sources };
}

let bundled: TriageKeys | undefined;

/** The bundled pack's keys, read once per process (throws TRIAGE040 each time if malformed). */
export function bundledTriageKeys(): TriageKeys {
  bundled ??= loadTriageKeys();
  return bundled;
}
