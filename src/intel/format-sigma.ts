/**
 * The indicator values inside Sigma rules (YAML). Threat reports often publish their C2 domains and file
 * hashes only as Sigma rules; this reads those values as an IOC list. It is not a Sigma engine: the
 * rule's other conditions (`Image|endswith`, ...) are not applied, and the domain values match as
 * Quarry's domains do (the name and its subdomains), not as Sigma's `contains` substring.
 *
 * Read from the top-level `detection:` block (a line-oriented reader for the YAML subset Sigma rules use:
 * `key|modifiers: scalar`, `key: [a, b]`, and `- item` lists below a key):
 *
 * - hash fields (`Hashes`, `Hash`, `md5`, `sha1`, `sha256`) with values such as `SHA256=AB12...` or a
 *   Sysmon-style `MD5=..,SHA256=..` list;
 * - host fields (`QueryName`, `DestinationHostname`, `cs-host`, `r-dns`, `query`) as domains;
 * - IP fields (`DestinationIp`, `SourceIp`, `dst_ip`, `src_ip`, `c-ip`) as IPs or networks.
 *
 * Skipped: selections named `filter*` or negated in the `condition` (those are exclusions), and values
 * under modifiers that change their meaning (`re`, `base64`, `base64offset`, `all`, `windash`, `wide`).
 */
import type { TypeHint } from "./classify.js";
import type { ListBuilder } from "./list-builder.js";

const FIELD_HINTS: Readonly<Record<string, TypeHint | "sysmon-hashes">> = {
  hashes: "sysmon-hashes",
  hash: "sysmon-hashes",
  md5: "md5",
  sha1: "sha1",
  sha256: "sha256",
  queryname: "host",
  query: "host",
  destinationhostname: "host",
  "cs-host": "host",
  "r-dns": "host",
  destinationip: "ip",
  sourceip: "ip",
  dst_ip: "ip",
  src_ip: "ip",
  "c-ip": "ip",
};
const REJECTED_MODIFIERS = new Set([
  "re",
  "base64",
  "base64offset",
  "all",
  "windash",
  "wide",
  "utf16le",
  "utf16",
]);
const KEY_LINE = /^(\s*)(?:-\s+)?([A-Za-z0-9_.-]+)((?:\|[A-Za-z0-9]+)*)\s*:(?:\s+(.*))?$/;
const ITEM_LINE = /^(\s*)-\s+(.*)$/;

export function looksLikeSigma(text: string): boolean {
  return /^title\s*:/m.test(text) && /^detection\s*:/m.test(text) && /^logsource\s*:/m.test(text);
}

export function readSigma(text: string, out: ListBuilder): void {
  const lines = text.split(/\r?\n/);
  const title = topLevelScalar(lines, "title");
  const metadata: Record<string, string> = {};
  for (const key of ["id", "level", "status", "author", "date"]) {
    const v = topLevelScalar(lines, key);
    if (v) metadata[`sigma_${key}`] = v;
  }
  const negated = negatedSelections(lines);
  let loaded = 0;
  let inDetection = false;
  let selection = "";
  // Indentation of the keys directly under `detection:` (selection names, condition).
  let childIndent = -1;
  // The key whose `- item` lines follow, with its indentation.
  let current: { hint: TypeHint | "sysmon-hashes"; indent: number; field: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const lineNo = i + 1;
    if (/^\S/.test(line) && !line.startsWith("#")) {
      inDetection = /^detection\s*:\s*$/.test(line);
      current = undefined;
      childIndent = -1;
      selection = "";
      continue;
    }
    if (!inDetection || line.trim() === "" || line.trim().startsWith("#")) continue;
    const indent = line.length - line.trimStart().length;
    if (childIndent < 0) childIndent = indent;
    if (current && indent > current.indent) {
      const item = ITEM_LINE.exec(line);
      if (item && !KEY_LINE.test(line)) {
        loaded += addValues(out, scalar(item[2]), current.hint, current.field, lineNo, title, metadata);
        continue;
      }
    }
    current = undefined;
    const key = KEY_LINE.exec(line);
    if (!key) continue;
    const keyIndent = key[1].length;
    const name = key[2];
    const modifiers = key[3]
      .split("|")
      .filter((m) => m !== "")
      .map((m) => m.toLowerCase());
    const rest = key[4]?.trim() ?? "";
    if (keyIndent === childIndent) {
      selection = name;
      if (rest === "") continue;
    }
    if (name === "condition" || name === "timeframe") continue;
    const hint = FIELD_HINTS[name.toLowerCase()];
    if (!hint) continue;
    if (isExcluded(selection, negated) || modifiers.some((m) => REJECTED_MODIFIERS.has(m))) continue;
    if (rest === "") {
      current = { hint, indent: keyIndent, field: name };
      continue;
    }
    const values =
      rest.startsWith("[") && rest.endsWith("]") ? splitFlowList(rest.slice(1, -1)) : [scalar(rest)];
    for (const v of values) loaded += addValues(out, v, hint, name, lineNo, title, metadata);
  }
  if (loaded === 0 && out.indicators.length === 0) {
    out.warning(
      1,
      "Sigma rule has no indicator values (fields such as Hashes, QueryName, DestinationHostname, DestinationIp); nothing loaded",
    );
  }
}

function addValues(
  out: ListBuilder,
  value: string,
  hint: TypeHint | "sysmon-hashes",
  field: string,
  line: number,
  title: string | undefined,
  metadata: Readonly<Record<string, string>>,
): number {
  const fields = { line, metadata: { ...metadata, sigma_field: field }, ...(title ? { label: title } : {}) };
  if (hint !== "sysmon-hashes") return out.addValue(value, hint, fields) ? 1 : 0;
  let n = 0;
  for (const part of value.split(/[,;\s]+/)) {
    if (part === "" || /^imphash=/i.test(part)) continue;
    if (out.addValue(part, "hash", { ...fields, metadata: { ...fields.metadata } })) n++;
  }
  return n;
}

function isExcluded(selection: string, negated: readonly RegExp[]): boolean {
  if (/^filter/i.test(selection)) return true;
  return negated.some((re) => re.test(selection));
}

/** Selection-name patterns that appear after `not` in the rule's condition(s). */
function negatedSelections(lines: readonly string[]): RegExp[] {
  const out: RegExp[] = [];
  for (const line of lines) {
    const m = /^\s+condition\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const condition = scalar(m[1]);
    const re = /\bnot\s+(?:(?:1|all)\s+of\s+)?([A-Za-z0-9_*]+)/gi;
    for (let n = re.exec(condition); n; n = re.exec(condition)) {
      const name = n[1];
      if (name === "them") continue;
      const pattern = name
        .split("*")
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*");
      out.push(new RegExp(`^${pattern}$`));
    }
  }
  return out;
}

function topLevelScalar(lines: readonly string[], key: string): string | undefined {
  const re = new RegExp(`^${key}\\s*:\\s*(.+)$`);
  for (const line of lines) {
    const m = re.exec(line);
    if (m) return scalar(m[1]);
  }
  return undefined;
}

/** A YAML scalar: 'single' ('' escapes a quote), "double" (backslash escapes), or plain (` #` comment). */
function scalar(text: string): string {
  const t = text.trim();
  if (t.startsWith("'")) {
    const end = t.indexOf("'", 1);
    let out = "";
    let i = 1;
    for (; i < t.length; i++) {
      if (t[i] === "'") {
        if (t[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        break;
      }
      out += t[i];
    }
    return end < 0 ? t.slice(1) : out;
  }
  if (t.startsWith('"')) {
    let out = "";
    for (let i = 1; i < t.length; i++) {
      if (t[i] === "\\" && i + 1 < t.length) {
        out += t[++i];
        continue;
      }
      if (t[i] === '"') break;
      out += t[i];
    }
    return out;
  }
  const comment = t.search(/\s#/);
  return (comment >= 0 ? t.slice(0, comment) : t).trim();
}

function splitFlowList(text: string): string[] {
  return text
    .split(",")
    .map((s) => scalar(s))
    .filter((s) => s !== "");
}
