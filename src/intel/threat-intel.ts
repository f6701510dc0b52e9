/**
 * Indicators presented as Elastic threat-intel documents (the shape of the `logs-ti_*` indices Elastic's
 * threat intel integrations write), so detection-rules' `threat_match` rules run against them unchanged.
 * Their `threat_query` filters on `event.module:threatintel` or `event.dataset:ti_*`, `event.category:
 * threat`, `event.kind: enrichment`, `event.type: indicator`, an `@timestamp` in the last 30 days and the
 * presence of `threat.indicator.ip`, `threat.indicator.url.full` or `threat.indicator.file.hash.*`; their
 * `threat_mapping` compares `source.ip`/`destination.ip` with `threat.indicator.ip`, `url.full`/
 * `url.original` with `threat.indicator.url.full`/`.original`, and `file|process|dll.hash.*` with
 * `threat.indicator.file.hash.*`. Every one of those fields is written here.
 */
import type { JsonObject } from "../events/types.js";
import { refang } from "./refang.js";
import type { Indicator, IndicatorList } from "./types.js";
import { normaliseUrl } from "./url.js";

export interface ThreatIntelOptions {
  /**
   * `@timestamp` and `event.ingested` of every document (ISO 8601). Default: the current time. Rules ask
   * for indicators seen in the 30 days before "now"; a hunt over old data sets "now" to the input's end,
   * and the default (later than that) passes the filter.
   */
  readonly timestamp?: string;
}

const STIX_TYPE = {
  domain: "domain-name",
  url: "url",
  ipv4: "ipv4-addr",
  ipv6: "ipv6-addr",
  cidr: "",
  md5: "file",
  sha1: "file",
  sha256: "file",
} as const;

export function toThreatIntelDocuments(list: IndicatorList, options: ThreatIntelOptions = {}): JsonObject[] {
  const timestamp = options.timestamp ?? new Date().toISOString();
  return list.indicators.map((indicator) => toDocument(indicator, list.name, timestamp));
}

function toDocument(indicator: Indicator, feed: string, timestamp: string): JsonObject {
  const ti: JsonObject = {
    type: indicatorType(indicator),
    name: indicator.value,
    provider: indicator.source ?? feed,
    id: [indicator.metadata.stix_id ?? `${indicator.origin.file}:${indicator.origin.line ?? 0}`],
  };
  if (indicator.label) ti.description = indicator.label;
  switch (indicator.type) {
    case "domain":
      ti.url = { domain: indicator.value };
      break;
    case "url": {
      const written = refang(indicator.original);
      const url: JsonObject = { full: written, original: written };
      const parsed = normaliseUrl(indicator.value);
      if (parsed) {
        url.domain = parsed.host.startsWith("[") ? parsed.host.slice(1, -1) : parsed.host;
        const query = parsed.rest.indexOf("?");
        url.path = query >= 0 ? parsed.rest.slice(0, query) : parsed.rest;
        if (query >= 0) url.query = parsed.rest.slice(query + 1);
        if (parsed.port) url.port = Number(parsed.port);
      }
      const scheme = normaliseUrl(written)?.scheme;
      if (scheme) url.scheme = scheme;
      ti.url = url;
      break;
    }
    case "ipv4":
    case "ipv6":
      ti.ip = indicator.value;
      break;
    case "cidr":
      // Elasticsearch's `ip` type holds one address, not a range; the network stays in `name`.
      break;
    case "md5":
    case "sha1":
    case "sha256": {
      const file: JsonObject = { hash: { [indicator.type]: indicator.value } };
      if (indicator.metadata.file_name) file.name = indicator.metadata.file_name;
      ti.file = file;
      break;
    }
    default: {
      const unreachable: never = indicator.type;
      throw new Error(`unknown indicator type ${String(unreachable)}`);
    }
  }
  return {
    "@timestamp": timestamp,
    event: {
      kind: "enrichment",
      category: ["threat"],
      type: ["indicator"],
      module: "threatintel",
      dataset: "ti_quarry.indicator",
      ingested: timestamp,
    },
    threat: { indicator: ti, feed: { name: feed } },
  };
}

function indicatorType(indicator: Indicator): string {
  if (indicator.type === "cidr") return indicator.value.includes(":") ? "ipv6-addr" : "ipv4-addr";
  return STIX_TYPE[indicator.type];
}
