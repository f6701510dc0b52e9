/**
 * Matching indicators against events. Built once per run into lookup structures, so the cost per event
 * is a few hash-map probes per field value, whatever the number of indicators:
 *
 * - hashes: one map from lower-case hex to indicators;
 * - domains: one map from name to indicators; an event name is looked up whole and then at each label
 *   boundary (`a.b.evil.com`, `b.evil.com`, `evil.com`, `com`), so O(labels) probes and never a
 *   substring match;
 * - IPs: exact maps (IPv4 as numbers, IPv6 as bigints) plus, per prefix length present, a map from
 *   network address to CIDR indicators, so one probe per distinct prefix length;
 * - URLs: a map from `host[:port]` to the indicators' path prefixes, checked at path boundaries.
 *
 * Fields read (docs/intel.md explains each choice): DOMAIN_FIELDS, IP_FIELDS (every ECS `ip` field except
 * `threat.*`), URL_FIELDS, and for hashes every `*.hash.md5|sha1|sha256` path the event carries (ECS or
 * not), Sysmon-style `Hashes` strings, and `related.hash`. `threat.*` is never read: those fields hold
 * indicators and enrichments, not observations.
 */
import { domainToASCII } from "node:url";
import { compileField, type FieldGetter } from "../events/field-access.js";
import type { JsonObject, JsonValue } from "../events/types.js";
import { maskV4, maskV6, parseCidr, parseIpv4, parseIpv6, unmapIpv4 } from "./ip.js";
import type { Indicator, IndicatorList } from "./types.js";
import { normaliseUrl, urlHasPrefix } from "./url.js";

export interface IndicatorMatch {
  readonly indicator: Indicator;
  /** The event field that held the value (`url.domain+url.path` for a URL composed from parts). */
  readonly field: string;
  /** The event's value as it appeared (for composed URLs, the composed text). */
  readonly value: string;
}

export interface IndicatorIndex {
  /** Number of indicators indexed. */
  readonly size: number;
  /**
   * Every indicator that matches any field of the event; one match per (indicator, field, value).
   * A `related.*` field only reports an indicator no other field of the event matched (they are copies).
   * `raw`, the event's JSON text when the caller has it, lets the search for hash fields be skipped when
   * the text holds no indexed hash (see `HashTextGate`): the answer is the same either way.
   */
  matchEvent(doc: JsonObject, raw?: string): IndicatorMatch[];
  /** Hash indicators equal to this hex digest (any letter case, surrounding spaces ignored). */
  matchHash(hex: string): Indicator[];
  /** Domain indicators equal to this name or to one of its parent domains; IP indicators if it is an IP. */
  matchDomain(name: string): Indicator[];
  /** IP and CIDR indicators matching this address (IPv4-mapped IPv6 also checks the IPv4 address). */
  matchIp(address: string): Indicator[];
  /** URL indicators this URL lies under (see docs/intel.md: prefix at a path boundary). */
  matchUrl(url: string): Indicator[];
}

/** ECS fields holding DNS names. Not victim identity fields (`host.hostname`, `host.domain`, `user.domain`). */
export const DOMAIN_FIELDS: readonly string[] = [
  "dns.question.name",
  "dns.question.registered_domain",
  "dns.answers.name",
  "dns.answers.data",
  "url.domain",
  "url.registered_domain",
  "destination.domain",
  "destination.registered_domain",
  "source.domain",
  "source.registered_domain",
  "server.domain",
  "server.registered_domain",
  "client.domain",
  "client.registered_domain",
  "tls.client.server_name",
  "related.hosts",
];

/**
 * Every ECS 9.4 field of type `ip` except `threat.*` (test/intel checks this against
 * src/schema/ecs-types.json); `related.ip` last because it repeats the others.
 */
export const IP_FIELDS: readonly string[] = [
  "client.ip",
  "client.nat.ip",
  "destination.ip",
  "destination.nat.ip",
  "dns.resolved_ip",
  "host.ip",
  "host.target.ip",
  "network.forwarded_ip",
  "observer.ip",
  "orchestrator.resource.ip",
  "process.entry_leader.entry_meta.source.ip",
  "server.ip",
  "server.nat.ip",
  "source.ip",
  "source.nat.ip",
  "related.ip",
];

/** Whole-URL fields; `url.domain` + `url.path` (+ `url.port`, `url.query`) is composed when neither has a host. */
export const URL_FIELDS: readonly string[] = ["url.full", "url.original"];

const HASH_NAMES = new Set(["md5", "sha1", "sha256"]);
const MAX_WALK_DEPTH = 64;

type Bucket = Indicator[];

function push<K>(map: Map<K, Bucket>, key: K, indicator: Indicator): void {
  const bucket = map.get(key);
  if (bucket) bucket.push(indicator);
  else map.set(key, [indicator]);
}

interface UrlEntry {
  readonly key: string;
  /** The indicator as a one-element bucket, made once so a hit allocates nothing. */
  readonly bucket: Bucket;
}

interface FieldReader {
  readonly field: string;
  /** First path segment: a document without that top-level key (plain or dotted) cannot hold the field. */
  readonly root: string;
  readonly get: FieldGetter;
  readonly related: boolean;
}

function fieldReaders(fields: readonly string[]): FieldReader[] {
  return fields.map((field) => ({
    field,
    root: field.slice(0, field.indexOf(".") >>> 0),
    get: compileField(field),
    related: field.startsWith("related."),
  }));
}

/** First segments of the document's top-level keys (`{"dns.question.name": ..}` gives `dns`). */
function rootKeys(doc: JsonObject): Set<string> {
  const roots = new Set<string>();
  for (const key of Object.keys(doc)) {
    const dot = key.indexOf(".");
    roots.add(dot < 0 ? key : key.slice(0, dot));
  }
  return roots;
}

export function buildIndicatorIndex(input: readonly (IndicatorList | Indicator)[]): IndicatorIndex {
  const indicators: Indicator[] = [];
  for (const item of input) {
    if ("indicators" in item) indicators.push(...item.indicators);
    else indicators.push(item);
  }
  const hashes = new Map<string, Bucket>();
  const domains = new Map<string, Bucket>();
  const ipv4 = new Map<number, Bucket>();
  const ipv6 = new Map<bigint, Bucket>();
  const cidr4 = new Map<number, Map<number, Bucket>>();
  const cidr6 = new Map<number, Map<bigint, Bucket>>();
  const urls = new Map<string, UrlEntry[]>();
  for (const indicator of indicators) {
    switch (indicator.type) {
      case "md5":
      case "sha1":
      case "sha256":
        push(hashes, indicator.value.toLowerCase(), indicator);
        break;
      case "domain":
        push(domains, indicator.value.toLowerCase(), indicator);
        break;
      case "ipv4": {
        const bits = parseIpv4(indicator.value);
        if (bits !== undefined) push(ipv4, bits, indicator);
        break;
      }
      case "ipv6": {
        const bits = parseIpv6(indicator.value);
        if (bits !== undefined) push(ipv6, bits, indicator);
        break;
      }
      case "cidr": {
        const net = parseCidr(indicator.value);
        if (!net) break;
        if (net.version === 4) {
          let byNet = cidr4.get(net.prefix);
          if (!byNet) cidr4.set(net.prefix, (byNet = new Map()));
          push(byNet, net.network as number, indicator);
        } else {
          let byNet = cidr6.get(net.prefix);
          if (!byNet) cidr6.set(net.prefix, (byNet = new Map()));
          push(byNet, net.network as bigint, indicator);
        }
        break;
      }
      case "url": {
        const url = normaliseUrl(indicator.value);
        if (!url) break;
        const hostPort = url.port ? `${url.host}:${url.port}` : url.host;
        const entries = urls.get(hostPort);
        const entry = { key: url.key, bucket: [indicator] };
        if (entries) entries.push(entry);
        else urls.set(hostPort, [entry]);
        break;
      }
      default: {
        const unreachable: never = indicator.type;
        throw new Error(`unknown indicator type ${String(unreachable)}`);
      }
    }
  }
  const prefixes4 = [...cidr4.keys()];
  const prefixes6 = [...cidr6.keys()];
  const hasIps = ipv4.size + ipv6.size + cidr4.size + cidr6.size > 0;
  const hasDomains = domains.size > 0;
  const hasUrls = urls.size > 0;
  const hasHashes = hashes.size > 0;

  const lookupHash = (hex: string): Bucket | undefined => hashes.get(hex.trim().toLowerCase());
  const hashGate = hasHashes ? HashTextGate.for(hashes.keys()) : undefined;

  // Lookups push the buckets they hit onto `out`; nothing is allocated on a miss.
  const lookupDomain = (name: string, out: Bucket[]): void => {
    let s = name.toLowerCase();
    if (s.endsWith(".")) s = s.slice(0, -1);
    if (s.length === 0 || s.length > 253) return;
    if (/[^\x00-\x7f]/.test(s)) {
      s = domainToASCII(s);
      if (s === "") return;
    }
    const whole = domains.get(s);
    if (whole) out.push(whole);
    for (let dot = s.indexOf("."); dot >= 0; dot = s.indexOf(".", dot + 1)) {
      const parent = domains.get(s.slice(dot + 1));
      if (parent) out.push(parent);
    }
  };

  const lookupIpv4 = (bits: number, out: Bucket[]): void => {
    const exact = ipv4.get(bits);
    if (exact) out.push(exact);
    for (const prefix of prefixes4) {
      const hit = cidr4.get(prefix)?.get(maskV4(bits, prefix));
      if (hit) out.push(hit);
    }
  };

  /** Returns false when the text is not an IP address. */
  const lookupIp = (text: string, out: Bucket[]): boolean => {
    const v4 = parseIpv4(text);
    if (v4 !== undefined) {
      lookupIpv4(v4, out);
      return true;
    }
    const v6 = parseIpv6(text);
    if (v6 === undefined) return false;
    const exact = ipv6.get(v6);
    if (exact) out.push(exact);
    for (const prefix of prefixes6) {
      const hit = cidr6.get(prefix)?.get(maskV6(v6, prefix));
      if (hit) out.push(hit);
    }
    const mapped = unmapIpv4(v6);
    if (mapped !== undefined) lookupIpv4(mapped, out);
    return true;
  };

  /** A host as events give it: an IP (maybe bracketed) goes to the IP maps, anything else to domains. */
  const lookupHost = (text: string, out: Bucket[]): void => {
    if (hasIps && (text.charCodeAt(0) === 91 || /^[0-9a-fA-F:.]+$/.test(text))) {
      const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
      if (lookupIp(bare, out)) return;
    }
    if (hasDomains) lookupDomain(text, out);
  };

  const lookupUrl = (text: string, out: Bucket[], withHost: boolean): boolean => {
    const url = normaliseUrl(text);
    if (!url) return false;
    if (hasUrls) {
      const hostPort = url.port ? `${url.host}:${url.port}` : url.host;
      const entries = urls.get(hostPort);
      if (entries) {
        for (const e of entries) if (urlHasPrefix(url.key, e.key)) out.push(e.bucket);
      }
    }
    if (withHost) lookupHost(url.host, out);
    return true;
  };

  const collect = (run: (out: Bucket[]) => void): Indicator[] => {
    const buckets: Bucket[] = [];
    run(buckets);
    const found: Indicator[] = [];
    for (const bucket of buckets) for (const i of bucket) if (!found.includes(i)) found.push(i);
    return found;
  };

  const domainGetters = fieldReaders(DOMAIN_FIELDS);
  const ipGetters = fieldReaders(IP_FIELDS);
  const urlGetters = fieldReaders(URL_FIELDS);
  const urlDomain = compileField("url.domain");
  const urlPath = compileField("url.path");
  const urlQuery = compileField("url.query");
  const urlPort = compileField("url.port");
  const urlScheme = compileField("url.scheme");

  const matchEvent = (doc: JsonObject, raw?: string): IndicatorMatch[] => {
    let matches: IndicatorMatch[] | undefined;
    // `indicator/field/value` already reported: a linear scan while few (the usual case), then a set.
    let seenKeys: Set<string> | undefined;
    // Indicators matched by a field other than related.*.
    let matchedPrimary: Indicator[] | undefined;
    // related.* repeats other fields: looked up last so they only add what nothing else matched.
    let deferred: { field: string; value: string; buckets: Bucket[] }[] | undefined;
    const hit: Bucket[] = [];
    const report = (field: string, value: string, related: boolean): void => {
      if (hit.length === 0) return;
      if (related) {
        (deferred ??= []).push({ field, value, buckets: hit.splice(0) });
        return;
      }
      emit(field, value, false, hit);
      hit.length = 0;
    };
    const isNew = (indicator: Indicator, field: string, value: string): boolean => {
      if (!matches) return true;
      if (matches.length < 32) {
        for (const m of matches)
          if (m.indicator === indicator && m.field === field && m.value === value) return false;
        return true;
      }
      if (!seenKeys) {
        seenKeys = new Set();
        for (const m of matches) seenKeys.add(matchKey(m.indicator, m.field, m.value));
      }
      const key = matchKey(indicator, field, value);
      if (seenKeys.has(key)) return false;
      seenKeys.add(key);
      return true;
    };
    const emit = (field: string, value: string, related: boolean, buckets: readonly Bucket[]): void => {
      for (const bucket of buckets) {
        for (const indicator of bucket) {
          if (related && matchedPrimary?.includes(indicator)) continue;
          if (!isNew(indicator, field, value)) continue;
          (matches ??= []).push({ indicator, field, value });
          if (!related) (matchedPrimary ??= []).push(indicator);
        }
      }
    };
    const roots = rootKeys(doc);
    if (hasHashes && (!raw || !hashGate || hashGate.mayHold(raw))) {
      walkHashes(doc, (field, value, related) => {
        const bucket = lookupHash(value);
        if (!bucket) return;
        hit.push(bucket);
        report(field, value, related);
      });
    }
    if ((hasUrls || hasDomains || hasIps) && roots.has("url")) {
      let urlHadHost = false;
      const hasUrlDomain = urlDomain(doc).length > 0;
      for (const { field, get } of urlGetters) {
        for (const v of get(doc)) {
          if (typeof v !== "string" || v === "") continue;
          let text = v;
          if (text.startsWith("/")) {
            const domain = firstString(urlDomain(doc));
            if (!domain) continue;
            text = domain + text;
          }
          if (lookupUrl(text, hit, !hasUrlDomain)) urlHadHost = true;
          report(field, v, false);
        }
      }
      if (!urlHadHost && hasUrls && hasUrlDomain) {
        const composed = composeUrl(doc, urlDomain, urlPort, urlScheme, urlPath, urlQuery);
        if (composed) {
          lookupUrl(composed, hit, false);
          report("url.domain+url.path", composed, false);
        }
      }
    }
    if (hasDomains || hasIps) {
      for (const { field, root, get, related } of domainGetters) {
        if (!roots.has(root)) continue;
        for (const v of get(doc)) {
          if (typeof v !== "string" || v === "") continue;
          lookupHost(v, hit);
          report(field, v, related);
        }
      }
    }
    if (hasIps) {
      for (const { field, root, get, related } of ipGetters) {
        if (!roots.has(root)) continue;
        for (const v of get(doc)) {
          if (typeof v !== "string" || v === "") continue;
          lookupIp(v, hit);
          report(field, v, related);
        }
      }
    }
    if (deferred) for (const d of deferred) emit(d.field, d.value, true, d.buckets);
    return matches ?? [];
  };

  return {
    size: indicators.length,
    matchEvent,
    matchHash: (hex) => [...(lookupHash(hex) ?? [])],
    matchDomain: (name) => collect((out) => lookupHost(name.trim(), out)),
    matchIp: (address) =>
      collect((out) => {
        const t = address.trim();
        lookupIp(t.startsWith("[") && t.endsWith("]") ? t.slice(1, -1) : t, out);
      }),
    matchUrl: (url) => collect((out) => lookupUrl(url.trim(), out, false)),
  };
}

/**
 * Whether an event's JSON text can hold a value equal to one of the indexed hashes: walking a parsed
 * document for its hash fields costs more than this look at its text, and most events a hunt keeps hold
 * no indicator. A value matches when, trimmed and lower-cased, it is an indexed hash, and every indexed
 * hash is hex: unless a digit or letter is escaped (`\u00XX`; a text with `\u00` anywhere is always
 * walked), the value's hex digits stand in the text as they are, ending a run of hex digits (what can
 * follow them in the value, whitespace, raw or escaped, and the closing quote are not hex digits; what
 * precedes them can be, as the `f` of an escaped form feed). So the runs at least as long as the shortest
 * hash are found by sampling (a run that long covers a sampled position, as in `hasLongDigitRun`), and
 * each run's last 32, 40 or 64 digits (each indexed length) are looked up. No gate (every event walked)
 * when an indexed hash is not plain lower-case hex.
 */
class HashTextGate {
  private static readonly HEX = /^[0-9a-f]+$/;
  private constructor(
    private readonly hashes: ReadonlySet<string>,
    /** The indexed hashes' lengths, shortest first. */
    private readonly lengths: readonly number[],
  ) {}
  static for(keys: Iterable<string>): HashTextGate | undefined {
    const hashes = new Set<string>();
    for (const k of keys) {
      if (!HashTextGate.HEX.test(k)) return undefined;
      hashes.add(k);
    }
    if (hashes.size === 0) return undefined;
    const lengths = [...new Set([...hashes].map((h) => h.length))].sort((a, b) => a - b);
    return new HashTextGate(hashes, lengths);
  }
  /** False only when no value of the event can equal an indexed hash. */
  mayHold(raw: string): boolean {
    if (hasDigitEscape(raw)) return true;
    const shortest = this.lengths[0];
    const end = raw.length;
    let p = shortest - 1;
    while (p < end) {
      if (!isHexUnit(raw.charCodeAt(p))) {
        p += shortest;
        continue;
      }
      let start = p;
      while (start > 0 && isHexUnit(raw.charCodeAt(start - 1))) start--;
      let stop = p + 1;
      while (stop < end && isHexUnit(raw.charCodeAt(stop))) stop++;
      for (const length of this.lengths) {
        if (length > stop - start) break;
        if (this.hashes.has(raw.slice(stop - length, stop).toLowerCase())) return true;
      }
      // The next run starts after `stop` (not a hex digit) and covers stop + shortest if long enough.
      p = stop + shortest;
    }
    return false;
  }
}

function isHexUnit(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

/** Whether the text holds `\u00` (the escapes that can spell an ASCII digit or letter). */
function hasDigitEscape(raw: string): boolean {
  for (let at = raw.indexOf("u00"); at >= 0; at = raw.indexOf("u00", at + 3))
    if (at > 0 && raw.charCodeAt(at - 1) === 92) return true;
  return false;
}

const indicatorIds = new WeakMap<Indicator, number>();
let nextIndicatorId = 0;

function matchKey(indicator: Indicator, field: string, value: string): string {
  let id = indicatorIds.get(indicator);
  if (id === undefined) indicatorIds.set(indicator, (id = nextIndicatorId++));
  return `${id}\u0000${field}\u0000${value}`;
}

function firstString(values: JsonValue[]): string | undefined {
  for (const v of values) if (typeof v === "string" && v !== "") return v;
  return undefined;
}

function composeUrl(
  doc: JsonObject,
  domain: FieldGetter,
  port: FieldGetter,
  scheme: FieldGetter,
  path: FieldGetter,
  query: FieldGetter,
): string | undefined {
  const host = firstString(domain(doc));
  if (!host) return undefined;
  const s = firstString(scheme(doc));
  const p = port(doc)[0];
  const portText = typeof p === "number" || typeof p === "bigint" || typeof p === "string" ? String(p) : "";
  let text = s ? `${s}://${host}` : host;
  if (portText) text += `:${portText}`;
  const pathText = firstString(path(doc)) ?? "/";
  text += pathText.startsWith("/") ? pathText : `/${pathText}`;
  const q = firstString(query(doc));
  if (q) text += `?${q}`;
  return text;
}

/**
 * Visit every hash-bearing string in the document: values at any path ending `hash.md5|sha1|sha256`
 * (nested objects, dotted keys or both), `related.hash`, and Sysmon-style `Hashes` strings
 * (`SHA1=..,MD5=..,SHA256=..,IMPHASH=..`). `threat.*` at the top is skipped. One pass, depth-bounded.
 */
function isObjectValue(v: JsonValue): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function walkHashes(doc: JsonObject, visit: (field: string, value: string, related: boolean) => void): void {
  const path: string[] = [];
  const leaf = (value: JsonValue, last: string, secondLast: string): void => {
    if (typeof value !== "string") {
      if (Array.isArray(value)) for (const v of value) leaf(v, last, secondLast);
      return;
    }
    const lower = last.toLowerCase();
    if (HASH_NAMES.has(lower) && secondLast.toLowerCase() === "hash") {
      visit(path.join("."), value, false);
    } else if (lower === "hash" && secondLast === "related") {
      visit(path.join("."), value, true);
    } else if (lower === "hashes") {
      for (const part of value.split(",")) {
        const eq = part.indexOf("=");
        if (eq < 0) continue;
        const algo = part.slice(0, eq).trim().toLowerCase();
        if (HASH_NAMES.has(algo)) visit(path.join("."), part.slice(eq + 1).trim(), false);
      }
    }
  };
  const walk = (node: JsonObject, prev: string, depth: number): void => {
    if (depth > MAX_WALK_DEPTH) return;
    for (const key in node) {
      if (depth === 0 && (key === "threat" || key.startsWith("threat."))) continue;
      const value = node[key];
      if (value === null || (typeof value !== "object" && typeof value !== "string")) continue;
      const dot = key.lastIndexOf(".");
      // Only objects and arrays can hold hashes deeper down; a string (or array of strings) only under
      // a key named md5/sha1/sha256/hash/hashes: the first letter rules out most keys without slicing.
      if (typeof value === "string" || (Array.isArray(value) && !value.some(isObjectValue))) {
        const first = key.charCodeAt(dot + 1) | 0x20;
        if (first !== 0x6d && first !== 0x73 && first !== 0x68) continue;
      }
      // Last two path segments, across the parent key and dotted keys alike.
      const last = dot < 0 ? key : key.slice(dot + 1);
      const secondLast = dot < 0 ? prev : key.slice(key.lastIndexOf(".", dot - 1) + 1, dot);
      path.push(key);
      if (typeof value === "string") leaf(value, last, secondLast);
      else if (Array.isArray(value)) {
        for (const element of value) {
          if (element !== null && typeof element === "object" && !Array.isArray(element)) {
            walk(element as JsonObject, last, depth + 1);
          } else if (typeof element === "string") leaf(element, last, secondLast);
        }
      } else if (typeof value !== "bigint") {
        walk(value as JsonObject, last, depth + 1);
      }
      path.pop();
    }
  };
  walk(doc, "", 0);
}
