/**
 * Indicators of compromise: loading IOC lists (plain text with defanged forms, CSV, STIX 2.1 bundles,
 * the IOC values of Sigma rules), matching them against events and file hashes, and presenting them as
 * Elastic threat-intel documents for `threat_match` rules. See docs/intel.md.
 */

export type { ParsedValue, TypeHint } from "./classify.js";
export { parseIndicatorValue } from "./classify.js";
export type { LoadIndicatorFileOptions } from "./load.js";
export { loadIndicatorFile, parseIndicators } from "./load.js";
export type { IndicatorIndex, IndicatorMatch } from "./matcher.js";
export { buildIndicatorIndex, DOMAIN_FIELDS, IP_FIELDS, URL_FIELDS } from "./matcher.js";
export { refang } from "./refang.js";
export type { ThreatIntelOptions } from "./threat-intel.js";
export { toThreatIntelDocuments } from "./threat-intel.js";
export type {
  Indicator,
  IndicatorFormat,
  IndicatorList,
  IndicatorOrigin,
  IndicatorType,
  LoadIssue,
  ParseIndicatorsOptions,
} from "./types.js";
export { INDICATOR_TYPES } from "./types.js";
