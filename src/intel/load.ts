/**
 * Entry points for reading IOC lists: detect the format from the content (never from the file name,
 * which users get wrong), run the format's reader, and return what loaded plus every problem found.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { QuarryError } from "../diagnostics/index.js";
import { detectCsvLayout, readCsvList } from "./format-csv.js";
import { looksLikeSigma, readSigma } from "./format-sigma.js";
import { looksLikeStix, readStix } from "./format-stix.js";
import { readTextList } from "./format-text.js";
import { ListBuilder } from "./list-builder.js";
import type { IndicatorFormat, IndicatorList, ParseIndicatorsOptions } from "./types.js";

/** Files larger than this are refused rather than read into memory (IOC lists are small). */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Parse IOC list text. Detection, in order: JSON that is a STIX bundle/object (`{`/`[` first), a Sigma
 * rule (`title:`, `logsource:` and `detection:` at top level), a CSV whose header names an indicator
 * column, else plain text. A leading UTF-8 BOM is ignored. Never throws for bad records; see
 * `IndicatorList.errors`.
 */
export function parseIndicators(text: string, options: ParseIndicatorsOptions): IndicatorList {
  const file = options.file ?? options.name;
  const out = new ListBuilder(options.name, file, options.source);
  const body = text.startsWith("\ufeff") ? text.slice(1) : text;
  const format = options.format ?? detectFormat(body);
  switch (format) {
    case "stix": {
      let document: unknown;
      try {
        document = JSON.parse(body);
      } catch (error) {
        out.error(jsonErrorLine(body, error), `not valid JSON: ${(error as Error).message}`);
        return out.finish("stix");
      }
      if (!looksLikeStix(document)) {
        out.error(1, "JSON content is not a STIX bundle, indicator object or array of STIX objects");
        return out.finish("stix");
      }
      readStix(body, document, out);
      break;
    }
    case "sigma":
      readSigma(body, out);
      break;
    case "csv":
      readCsvList(body, out, detectCsvLayout(firstDataLine(body)));
      break;
    case "text":
      readTextList(body, out);
      break;
    default: {
      const unreachable: never = format;
      throw new Error(`unknown format ${String(unreachable)}`);
    }
  }
  return out.finish(format);
}

function detectFormat(body: string): IndicatorFormat {
  const start = body.trimStart();
  if (start.startsWith("{") || start.startsWith("[")) {
    // `[` also starts a defanged line such as `[.]`-less IPv6 `[::1]`; only JSON-looking text is STIX.
    if (start.startsWith("{") || /^\[\s*(?:\{|\]|$)/.test(start)) return "stix";
  }
  if (looksLikeSigma(body)) return "sigma";
  if (detectCsvLayout(firstDataLine(body))) return "csv";
  return "text";
}

/** The first line that is neither blank nor a `#` comment (a CSV's header). */
function firstDataLine(body: string): string {
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf("\n", start);
    if (end < 0) end = body.length;
    const line = body.slice(start, end).replace(/\r$/, "");
    if (line.trim() !== "" && !line.trimStart().startsWith("#")) return line;
    start = end + 1;
  }
  return "";
}

function jsonErrorLine(body: string, error: unknown): number {
  const m = /position (\d+)/.exec(String((error as Error)?.message));
  if (!m) return 1;
  const at = Number(m[1]);
  let line = 1;
  for (let i = body.indexOf("\n"); i >= 0 && i < at; i = body.indexOf("\n", i + 1)) line++;
  return line;
}

export interface LoadIndicatorFileOptions {
  /** The list's name; defaults to the file's base name. */
  readonly name?: string;
  readonly format?: IndicatorFormat;
  readonly source?: string;
}

/**
 * Read and parse an IOC list file. Throws `QuarryError` (code INTEL001) only when the file cannot be read
 * at all or is too large; everything about its content is reported in the returned list.
 */
export async function loadIndicatorFile(
  path: string,
  options: LoadIndicatorFileOptions = {},
): Promise<IndicatorList> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new QuarryError({
      code: "INTEL001",
      severity: "error",
      title: `cannot read IOC list ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      labels: [],
    });
  }
  if (bytes.length > MAX_FILE_BYTES) {
    throw new QuarryError({
      code: "INTEL001",
      severity: "error",
      title: `IOC list ${path} is ${bytes.length} bytes; the limit is ${MAX_FILE_BYTES}`,
      labels: [],
    });
  }
  const text = decode(bytes);
  return parseIndicators(text, {
    name: options.name ?? basename(path),
    file: path,
    ...(options.format ? { format: options.format } : {}),
    ...(options.source ? { source: options.source } : {}),
  });
}

/** UTF-8, or UTF-16 when the file starts with a UTF-16 byte-order mark (lists exported from Windows tools). */
function decode(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe)
    return bytes.subarray(2).toString("utf16le");
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    swapped.swap16();
    return swapped.toString("utf16le");
  }
  return bytes.toString("utf8");
}
