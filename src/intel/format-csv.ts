/**
 * CSV IOC lists with a header row. Quarry's pack format is `type,value,label,source` plus any extra
 * columns (kept as metadata). Third-party layouts are recognised by header name:
 *
 * - a value column (`value`, `indicator`, `ioc`, `data`, `observable`, ...) with an optional type column
 *   (`type`, `entity_type`, `indicator_type`, ...; `Indicator` is the type column when another column
 *   holds the value, as in Sophos' `Indicator,Data,Note`); rows without a type get it inferred;
 * - or typed columns (`domain`, `url`, `ip`, `md5`, `sha1`, `sha256`, `hash`, ...), each non-empty cell
 *   one indicator (`File,Creation,Last Modified,Domain` loads the Domain column).
 *
 * Label columns: `label`, `description`, `comment`, `note`, `name`, ...; source: `source`, `provider`,
 * `feed`. A hash-typed cell may hold several hashes separated by `,`/`;`/`|`/spaces (Volexity's
 * `"sha256,sha1,md5"`), each loaded. Rows whose type Quarry does not match are warnings.
 */
import type { TypeHint } from "./classify.js";
import { clip } from "./classify.js";
import { readCsv } from "./csv.js";
import type { ListBuilder } from "./list-builder.js";

const TYPE_COLUMNS = [
  "type",
  "indicator_type",
  "ioc_type",
  "entity_type",
  "observable_type",
  "attribute_type",
  "ioc_kind",
  "kind",
];
const VALUE_COLUMNS = [
  "value",
  "indicator",
  "ioc",
  "data",
  "observable",
  "ioc_value",
  "indicator_value",
  "observable_value",
  "artifact",
  "entity",
];
const LABEL_COLUMNS = [
  "label",
  "description",
  "desc",
  "comment",
  "comments",
  "note",
  "notes",
  "name",
  "title",
];
const SOURCE_COLUMNS = ["source", "provider", "feed", "feed_name", "reporter"];
const TYPED_COLUMNS: Readonly<Record<string, TypeHint>> = {
  domain: "domain",
  domain_name: "domain",
  domainname: "domain",
  hostname: "host",
  host: "host",
  fqdn: "host",
  url: "url",
  uri: "url",
  ip: "ip",
  ip_address: "ip",
  ipaddress: "ip",
  ip_addr: "ip",
  ipv4: "ip",
  ipv6: "ip",
  cidr: "cidr",
  md5: "md5",
  md5_hash: "md5",
  sha1: "sha1",
  sha_1: "sha1",
  sha1_hash: "sha1",
  sha256: "sha256",
  sha_256: "sha256",
  sha256_hash: "sha256",
  hash: "hash",
  file_hash: "hash",
  filehash: "hash",
};

/** Type words as lists write them (case and punctuation ignored) -> what to parse the value as. */
const TYPE_WORDS: Readonly<Record<string, TypeHint>> = {
  domain: "domain",
  domainname: "domain",
  hostname: "host",
  host: "host",
  fqdn: "host",
  dns: "host",
  url: "url",
  uri: "url",
  link: "url",
  ip: "ip",
  ipaddress: "ip",
  ipaddr: "ip",
  ipdst: "ip",
  ipsrc: "ip",
  ipv4: "ip",
  ipv4addr: "ip",
  ipv6: "ip",
  ipv6addr: "ip",
  cidr: "cidr",
  iprange: "cidr",
  netblock: "cidr",
  subnet: "cidr",
  network: "cidr",
  md5: "md5",
  filehashmd5: "md5",
  sha1: "sha1",
  filehashsha1: "sha1",
  sha256: "sha256",
  filehashsha256: "sha256",
  hash: "hash",
  filehash: "hash",
  file: "hash",
};

export interface CsvLayout {
  readonly delimiter: string;
  readonly header: readonly string[];
}

export function normaliseHeader(name: string): string {
  return name
    .replace(/^\ufeff/, "")
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, "_");
}

interface Columns {
  readonly type?: number;
  readonly value?: number;
  readonly typed: readonly { index: number; hint: TypeHint }[];
  readonly label?: number;
  readonly source?: number;
}

function resolveColumns(header: readonly string[]): Columns | undefined {
  const names = header.map(normaliseHeader);
  const find = (candidates: readonly string[], except?: number): number | undefined => {
    for (const c of candidates) {
      const i = names.indexOf(c);
      if (i >= 0 && i !== except) return i;
    }
    return undefined;
  };
  let type = find(TYPE_COLUMNS);
  let value = find(VALUE_COLUMNS, type);
  // `Indicator,Data,...`: "indicator" names the type when another column carries the value.
  if (type === undefined && value !== undefined && names[value] === "indicator") {
    const other = find(VALUE_COLUMNS.filter((c) => c !== "indicator"));
    if (other !== undefined) {
      type = value;
      value = other;
    }
  }
  const used = new Set<number>([type, value].filter((i): i is number => i !== undefined));
  const label = find(
    LABEL_COLUMNS.filter((c) => !used.has(names.indexOf(c))),
    undefined,
  );
  if (label !== undefined) used.add(label);
  const source = find(SOURCE_COLUMNS.filter((c) => !used.has(names.indexOf(c))));
  const typed: { index: number; hint: TypeHint }[] = [];
  if (value === undefined) {
    names.forEach((name, index) => {
      const hint = TYPED_COLUMNS[name];
      if (hint) typed.push({ index, hint });
    });
    if (typed.length === 0) return undefined;
  }
  return { type, value, typed, label, source };
}

/**
 * Does the first data line look like a header Quarry understands? Tries `,`, `;` and tab as delimiters.
 */
export function detectCsvLayout(firstLine: string): CsvLayout | undefined {
  for (const delimiter of [",", ";", "\t"]) {
    if (!firstLine.includes(delimiter) && delimiter !== ",") continue;
    const { records } = readCsv(firstLine, delimiter);
    const header = records[0]?.fields;
    if (!header) continue;
    // Every header cell must look like a column name, not like data (an IOC line with a comment).
    if (header.some((h) => h.length > 64)) continue;
    if (resolveColumns(header)) return { delimiter, header };
  }
  return undefined;
}

export function readCsvList(text: string, out: ListBuilder, layout?: CsvLayout): void {
  const { records, problems } = readCsv(text, layout?.delimiter ?? ",");
  for (const p of problems) out.error(p.line, p.message);
  const headerIndex = records.findIndex((r) => !isCommentRecord(r.fields));
  if (headerIndex < 0) return;
  const header = records[headerIndex].fields;
  const columns = resolveColumns(header);
  if (!columns) {
    out.error(
      records[headerIndex].line,
      "CSV header has no indicator column (expected a value/indicator column, optionally with a type column, or columns named domain, url, ip, md5, sha1, sha256 or hash)",
    );
    return;
  }
  const names = header.map(normaliseHeader);
  const consumed = new Set<number>(
    [columns.type, columns.value, columns.label, columns.source, ...columns.typed.map((t) => t.index)].filter(
      (i): i is number => i !== undefined,
    ),
  );
  for (const record of records.slice(headerIndex + 1)) {
    const { fields, line } = record;
    if (isCommentRecord(fields)) continue;
    if (fields.length > header.length && fields.slice(header.length).some((f) => f.trim() !== "")) {
      out.error(line, `row has ${fields.length} fields but the header has ${header.length}`);
      continue;
    }
    const cell = (i: number | undefined): string => (i === undefined ? "" : (fields[i] ?? "").trim());
    const metadata: Record<string, string> = {};
    names.forEach((name, i) => {
      const v = cell(i);
      if (!consumed.has(i) && v !== "" && name !== "") metadata[name] = v;
    });
    const label = cell(columns.label);
    const source = cell(columns.source);
    const base = { line, metadata, ...(label ? { label } : {}), ...(source ? { source } : {}) };
    if (columns.value !== undefined) {
      const value = cell(columns.value);
      const declared = cell(columns.type);
      if (value === "") {
        out.warning(line, "row has no value; skipped");
        continue;
      }
      let hint: TypeHint | undefined;
      if (declared !== "") {
        hint = TYPE_WORDS[declared.toLowerCase().replace(/[^a-z0-9]/g, "")];
        if (hint === undefined) {
          out.warning(line, `type \`${clip(declared, 40)}\` is not one Quarry matches; row skipped`);
          continue;
        }
      }
      addCell(out, value, hint, base, declared === "" ? undefined : declared);
    } else {
      let any = false;
      for (const { index, hint } of columns.typed) {
        const value = cell(index);
        if (value === "") continue;
        any = true;
        addCell(out, value, hint, { ...base, metadata: { ...metadata } }, header[index].trim());
      }
      if (!any) out.warning(line, "row has no indicator value; skipped");
    }
  }
}

function addCell(
  out: ListBuilder,
  value: string,
  hint: TypeHint | undefined,
  fields: Parameters<ListBuilder["addValue"]>[2],
  declared: string | undefined,
): void {
  const isHash = hint === "hash" || hint === "md5" || hint === "sha1" || hint === "sha256";
  const parts = isHash ? value.split(/[\s,;|]+/).filter((p) => p !== "") : [value];
  for (const part of parts)
    out.addValue(part, hint, { ...fields, metadata: { ...fields.metadata } }, declared);
}

function isCommentRecord(fields: readonly string[]): boolean {
  return fields.length > 0 && fields[0].trimStart().startsWith("#");
}
