/**
 * STIX 2.x JSON: a bundle (`{"type": "bundle", "objects": [...]}`), a bare array of objects, or a single
 * indicator object. Each `indicator` object's `pattern` (pattern_type `stix`, or none given) yields one
 * Quarry indicator per supported equality comparison:
 *
 *     domain-name:value          -> domain
 *     url:value                  -> url
 *     ipv4-addr:value, ipv6-addr:value (an address or a network) -> ipv4 / ipv6 / cidr
 *     file:hashes.MD5 | 'SHA-1' | 'SHA-256' (also SHA1, SHA256) -> md5 / sha1 / sha256
 *     network-traffic:(src|dst)_ref.value -> inferred (IP or domain)
 *
 * `=` and `IN` are equality; `ISSUBSET` on an address gives a network. `OR` combinations load every
 * operand. A pattern with `AND`/`FOLLOWEDBY` is narrower than any of its comparisons alone; its supported
 * comparisons still load (a hash identifies its file whatever else is ANDed to it) with a warning.
 * The label is the indicator's `name`, else its `description`, else its `indicator_types`/`labels`; the
 * source is the `name` of the identity in `created_by_ref`, when the bundle has it.
 */
import { clip, type TypeHint } from "./classify.js";
import type { ListBuilder } from "./list-builder.js";
import { parseStixPattern, StixPatternError } from "./stix-pattern.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonRecord = { [key: string]: Json };

const HASH_PROPERTIES: Readonly<Record<string, TypeHint>> = {
  "hashes.md5": "md5",
  "hashes.sha-1": "sha1",
  "hashes.sha1": "sha1",
  "hashes.sha-256": "sha256",
  "hashes.sha256": "sha256",
};

export function looksLikeStix(value: unknown): boolean {
  if (Array.isArray(value)) return value.some((v) => isRecord(v) && typeof v.type === "string" && "id" in v);
  return isRecord(value) && (value.type === "bundle" || value.type === "indicator");
}

export function readStix(text: string, document: unknown, out: ListBuilder): void {
  const objects: Json[] = Array.isArray(document)
    ? (document as Json[])
    : isRecord(document) && document.type === "bundle"
      ? Array.isArray(document.objects)
        ? document.objects
        : []
      : [document as Json];
  if (isRecord(document) && document.type === "bundle" && !Array.isArray(document.objects)) {
    out.error(1, "STIX bundle has no `objects` array");
    return;
  }
  const identities = new Map<string, string>();
  for (const o of objects) {
    if (isRecord(o) && o.type === "identity" && typeof o.id === "string" && typeof o.name === "string") {
      identities.set(o.id, o.name);
    }
  }
  const idLines = idLineTable(text);
  for (const o of objects) {
    if (!isRecord(o) || o.type !== "indicator") continue;
    const id = typeof o.id === "string" ? o.id : undefined;
    const line = (id && idLines.get(id)) || 1;
    const what = id ?? "indicator without id";
    if (o.revoked === true) {
      out.warning(line, `${what} is revoked; skipped`);
      continue;
    }
    if (typeof o.pattern_type === "string" && o.pattern_type.toLowerCase() !== "stix") {
      out.warning(
        line,
        `${what} has pattern_type \`${clip(o.pattern_type, 40)}\`; only STIX patterns are read`,
      );
      continue;
    }
    if (typeof o.pattern !== "string") {
      out.error(line, `${what} has no pattern`);
      continue;
    }
    let comparisons: ReturnType<typeof parseStixPattern>;
    try {
      comparisons = parseStixPattern(o.pattern);
    } catch (error) {
      if (!(error instanceof StixPatternError)) throw error;
      out.error(line, `${what}: bad pattern at column ${error.offset + 1}: ${error.message}`);
      continue;
    }
    const kinds = stringList(o.indicator_types ?? o.labels);
    const label =
      (typeof o.name === "string" && o.name.trim()) ||
      (typeof o.description === "string" && clip(o.description.trim(), 200)) ||
      kinds.join(", ") ||
      undefined;
    const metadata: Record<string, string> = {};
    if (id) metadata.stix_id = id;
    for (const key of ["valid_from", "valid_until", "created", "modified", "confidence"] as const) {
      const v = o[key];
      if (typeof v === "string" || typeof v === "number") metadata[key] = String(v);
    }
    if (typeof o.description === "string" && o.description.trim() !== "")
      metadata.description = o.description;
    if (kinds.length > 0) metadata.indicator_types = kinds.join(",");
    const source =
      typeof o.created_by_ref === "string" ? (identities.get(o.created_by_ref) ?? undefined) : undefined;
    const fields = { line, metadata, ...(label ? { label } : {}), ...(source ? { source } : {}) };
    let loaded = 0;
    let unsupported = 0;
    for (const c of comparisons) {
      const hint = hintFor(c.objectType, c.property);
      const equality = (c.operator === "=" || c.operator === "IN") && !c.negated;
      const subset = c.operator === "ISSUBSET" && !c.negated && (hint === "ip" || hint === "cidr");
      if (!hint || !(equality || subset)) {
        unsupported++;
        continue;
      }
      for (const value of c.values) {
        if (out.addValue(value, hint, { ...fields, metadata: { ...metadata } })) loaded++;
      }
    }
    if (loaded === 0) {
      if (unsupported > 0) {
        out.warning(line, `${what}: no comparison Quarry can match in \`${clip(o.pattern, 120)}\`; skipped`);
      }
    } else if (comparisons.some((c) => c.conjunctive)) {
      out.warning(
        line,
        `${what}: pattern combines comparisons with AND/FOLLOWEDBY; its ${loaded} supported value(s) are matched each on its own, which is broader`,
      );
    }
  }
}

function hintFor(objectType: string, property: string): TypeHint | undefined {
  const prop = property.toLowerCase();
  switch (objectType) {
    case "domain-name":
      return prop === "value" ? "domain" : undefined;
    case "url":
      return prop === "value" ? "url" : undefined;
    case "ipv4-addr":
    case "ipv6-addr":
      return prop === "value" ? "ip" : undefined;
    case "file":
      return HASH_PROPERTIES[prop];
    case "network-traffic":
      return prop === "dst_ref.value" || prop === "src_ref.value" ? "host" : undefined;
    default:
      return undefined;
  }
}

function stringList(value: Json | undefined): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Id -> 1-based line of its `"id": "..."` member, found in one pass over the text. */
function idLineTable(text: string): Map<string, number> {
  const table = new Map<string, number>();
  const member = /"id"\s*:\s*"([^"\\]{1,200})"/g;
  let line = 1;
  let scanned = 0;
  for (let m = member.exec(text); m; m = member.exec(text)) {
    for (let i = text.indexOf("\n", scanned); i >= 0 && i < m.index; i = text.indexOf("\n", i + 1)) line++;
    scanned = m.index;
    if (!table.has(m[1])) table.set(m[1], line);
  }
  return table;
}
