/**
 * The data model of indicators of compromise: what a loaded IOC list holds, independent of the format it
 * was read from (plain text, CSV, STIX 2.1, Sigma). Every loader produces `IndicatorList`; the matcher and
 * the threat-intel presenter consume it.
 */

/**
 * The kinds of indicator Quarry matches. Hash types are named by algorithm; `cidr` holds IPv4 and IPv6
 * networks alike (the value's form tells which).
 */
export type IndicatorType = "domain" | "url" | "ipv4" | "ipv6" | "cidr" | "md5" | "sha1" | "sha256";

export const INDICATOR_TYPES: readonly IndicatorType[] = [
  "domain",
  "url",
  "ipv4",
  "ipv6",
  "cidr",
  "md5",
  "sha1",
  "sha256",
];

/** Where an indicator was read: the file as given and its 1-based line (absent when the format has none). */
export interface IndicatorOrigin {
  readonly file: string;
  readonly line?: number;
}

export interface Indicator {
  readonly type: IndicatorType;
  /**
   * The normalised form the matcher compares: lower-case hex for hashes; lower-case ASCII (punycode)
   * without a trailing dot for domains; canonical text for IPs (RFC 5952 for IPv6) and CIDRs (network
   * address, host bits cleared); for URLs `host[:port]/path?query` with the scheme, user info, default
   * port and fragment dropped and the host lower-cased (see docs/intel.md).
   */
  readonly value: string;
  /** The text as written in the list (still defanged, if it was). */
  readonly original: string;
  /** What the list says the indicator is (a description, comment or name). */
  readonly label?: string;
  /** Who published it (a `source` column, a STIX identity), when the list says. */
  readonly source?: string;
  /** Everything else the list carries for this indicator: version, os, file_name, role, observed, ... */
  readonly metadata: Readonly<Record<string, string>>;
  /** The name of the list it was loaded from (`IndicatorList.name`). */
  readonly list: string;
  readonly origin: IndicatorOrigin;
}

/** A line or record that was not loaded, or loaded with a caveat. */
export interface LoadIssue {
  readonly file: string;
  /** 1-based line of the record (for STIX, the line where the object's id appears). */
  readonly line: number;
  readonly message: string;
}

export type IndicatorFormat = "text" | "csv" | "stix" | "sigma";

export interface IndicatorList {
  readonly name: string;
  /** The format the content was read as (given or detected). */
  readonly format: IndicatorFormat;
  readonly indicators: readonly Indicator[];
  /** Malformed lines or records: reported with file and line, skipped; the rest of the list still loads. */
  readonly errors: readonly LoadIssue[];
  /**
   * Well-formed records deliberately not loaded (a type Quarry does not match, such as e-mail addresses or
   * file-name regexes) and records loaded only approximately (a STIX pattern with `AND`).
   */
  readonly warnings: readonly LoadIssue[];
}

export interface ParseIndicatorsOptions {
  /** The list's name; becomes `IndicatorList.name` and each indicator's `list`. */
  readonly name: string;
  /** Skip detection and read the text as this format. */
  readonly format?: IndicatorFormat;
  /** The file name used in `origin` and issues; defaults to `name`. */
  readonly file?: string;
  /** Publisher for indicators whose record names none. */
  readonly source?: string;
}
