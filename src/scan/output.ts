/**
 * Output of `quarry scan`: one record per file with a finding.
 *
 * - `ndjson`: one JSON record per line; `json`: a JSON array of the same records;
 * - `csv`: flat, one row per finding (a YARA rule or an indicator), the file's columns repeated;
 * - `table`: for people at a terminal: the file, then one indented line per finding.
 *
 * The record: `{"file": {"path", "size", "hash": {"md5", "sha1", "sha256"} | null}, "yara": [{"rule",
 * "namespace", "tags", "meta", "strings": [{"id", "offset", "length", "hex"}]}], "indicators": [{"value",
 * "type", "label", "source"}]}` (`hash` is null under --no-hashes).
 */
import type { ScanRecord } from "./sweep.js";

export type ScanFormat = "table" | "ndjson" | "json" | "csv";
export const SCAN_FORMATS: readonly ScanFormat[] = ["table", "ndjson", "json", "csv"];

export function recordJson(record: ScanRecord): string {
  return JSON.stringify(record);
}

export const CSV_COLUMNS = [
  "path",
  "size",
  "md5",
  "sha1",
  "sha256",
  "finding",
  "rule",
  "namespace",
  "tags",
  "severity",
  "strings",
  "indicator_value",
  "indicator_type",
  "indicator_label",
  "indicator_source",
] as const;

/** RFC 4180: quote when the field holds a comma, quote, CR or LF; double the quotes. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(",");
}

/** The CSV rows of one record (without trailing newline), one per finding. */
export function recordCsvRows(record: ScanRecord): string[] {
  const f = record.file;
  const head = [f.path, f.size, f.hash?.md5 ?? "", f.hash?.sha1 ?? "", f.hash?.sha256 ?? ""];
  const rows: string[] = [];
  for (const y of record.yara) {
    const severity = y.meta.severity;
    const strings = y.strings.map((s) => `${s.id}@${s.offset}:${s.length}`).join(" ");
    rows.push(
      [
        ...head,
        "yara",
        y.rule,
        y.namespace,
        y.tags.join(" "),
        severity === undefined ? "" : String(severity),
        strings,
        "",
        "",
        "",
        "",
      ]
        .map(csvField)
        .join(","),
    );
  }
  for (const i of record.indicators) {
    rows.push(
      [...head, "indicator", "", "", "", "", "", i.value, i.type, i.label, i.source].map(csvField).join(","),
    );
  }
  return rows;
}

function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** Control characters in file names must not drive the terminal. */
function printable(s: string): string {
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** The table form of one record: a header line and one indented line per finding. */
export function recordTable(record: ScanRecord): string {
  const f = record.file;
  const lines = [`${printable(f.path)}  (${humanSize(f.size)}${f.hash ? `, sha256 ${f.hash.sha256}` : ""})`];
  for (const y of record.yara) {
    const sev = y.meta.severity !== undefined ? ` [${String(y.meta.severity)}]` : "";
    const tags = y.tags.length ? ` (${y.tags.join(", ")})` : "";
    const shown = y.strings.slice(0, 4).map((s) => `${s.id}@0x${s.offset.toString(16)}`);
    const more = y.strings.length > 4 ? ` +${y.strings.length - 4} more` : "";
    lines.push(
      `  yara  ${y.namespace}:${y.rule}${tags}${sev}${shown.length ? `  ${shown.join(" ")}${more}` : ""}`,
    );
    if (typeof y.meta.description === "string") lines.push(`        ${printable(y.meta.description)}`);
  }
  for (const i of record.indicators) {
    const label = i.label ? `  ${printable(i.label)}` : "";
    const source = i.source ? ` (${printable(i.source)})` : "";
    lines.push(`  ioc   ${i.type} ${i.value}${label}${source}`);
  }
  return lines.join("\n");
}
