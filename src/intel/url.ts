/**
 * URL normalisation shared by indicators and events, so both sides compare in one form:
 * `host[:port]/path?query`, where the scheme, user info and fragment are dropped, the host is lower-cased
 * (IDNs to punycode, trailing dot removed, IPv6 in brackets in canonical form) and the scheme's default
 * port (80, 443, 21; both 80 and 443 when there is no scheme) is dropped. The path and query keep their
 * case: servers such as raw.githubusercontent.com are case-sensitive there.
 */
import { domainToASCII } from "node:url";
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "./ip.js";

export interface NormalisedUrl {
  /** Lower-case host: a domain, dotted IPv4, or `[ipv6]`. */
  readonly host: string;
  /** Non-default port as text, or "". */
  readonly port: string;
  /** Path and query, starting with "/" (a bare host gets "/"). */
  readonly rest: string;
  /** The scheme as written, lower-cased, or "" when the text had none. */
  readonly scheme: string;
  /** `host[:port]` + rest: the comparable form. */
  readonly key: string;
  /** How the host was recognised. */
  readonly hostKind: "domain" | "ipv4" | "ipv6";
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]{0,30}):\/\//;
const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  http: "80",
  https: "443",
  ftp: "21",
  ws: "80",
  wss: "443",
};
const MAX_URL_LENGTH = 8192;

/**
 * Normalise URL text. With `requireScheme` the text must start with `scheme://`; without it a bare
 * `host/path` is accepted too (IOC lists often drop the scheme). Undefined when there is no valid host.
 */
export function normaliseUrl(text: string, requireScheme = false): NormalisedUrl | undefined {
  if (text.length === 0 || text.length > MAX_URL_LENGTH) return undefined;
  let rest = text;
  let scheme = "";
  const m = SCHEME.exec(rest);
  if (m) {
    scheme = m[1].toLowerCase();
    rest = rest.slice(m[0].length);
  } else if (requireScheme) {
    return undefined;
  } else if (rest.startsWith("//")) {
    rest = rest.slice(2);
  }
  // Authority ends at the first "/", "?" or "#".
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) {
      end = i;
      break;
    }
  }
  let authority = rest.slice(0, end);
  let tail = rest.slice(end);
  const at = authority.lastIndexOf("@");
  if (at >= 0) authority = authority.slice(at + 1);
  let hostText = authority;
  let port = "";
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) return undefined;
    hostText = authority.slice(0, close + 1);
    const after = authority.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return undefined;
      port = after.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon >= 0) {
      hostText = authority.slice(0, colon);
      port = authority.slice(colon + 1);
    }
  }
  if (port !== "") {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return undefined;
    port = String(Number(port));
  }
  if (port !== "" && (scheme ? DEFAULT_PORTS[scheme] === port : port === "80" || port === "443")) port = "";
  const host = normaliseHost(hostText);
  if (!host) return undefined;
  const hash = tail.indexOf("#");
  if (hash >= 0) tail = tail.slice(0, hash);
  if (tail === "" || tail.startsWith("?")) tail = `/${tail}`;
  const hostPort = port ? `${host.text}:${port}` : host.text;
  return { host: host.text, port, rest: tail, scheme, key: hostPort + tail, hostKind: host.kind };
}

/** Lower-case, punycode, trailing-dot-free host; IPs in canonical form. Undefined when not a valid host. */
export function normaliseHost(text: string): { text: string; kind: "domain" | "ipv4" | "ipv6" } | undefined {
  if (text.startsWith("[") && text.endsWith("]")) {
    const v6 = parseIpv6(text.slice(1, -1));
    return v6 === undefined ? undefined : { text: `[${formatIpv6(v6)}]`, kind: "ipv6" };
  }
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { text: formatIpv4(v4), kind: "ipv4" };
  const domain = normaliseDomain(text);
  return domain === undefined ? undefined : { text: domain, kind: "domain" };
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A DNS name in comparable form: lower-case ASCII (IDNs converted to punycode), trailing dot dropped, a
 * leading `*.` wildcard dropped (domains match their subdomains anyway). Needs at least two labels and a
 * top-level label that is not all digits (so `1.2.3` is not a domain). Underscores are allowed because
 * real names (`_dmarc.example.com`, some CDN hosts) carry them.
 */
export function normaliseDomain(text: string): string | undefined {
  let s = text;
  if (s.endsWith(".")) s = s.slice(0, -1);
  if (s.startsWith("*.")) s = s.slice(2);
  if (s.length === 0 || s.length > 253) return undefined;
  if (/[^\x00-\x7f]/.test(s)) {
    const ascii = domainToASCII(s);
    if (ascii === "") return undefined;
    s = ascii;
  }
  s = s.toLowerCase();
  const labels = s.split(".");
  if (labels.length < 2) return undefined;
  for (const label of labels) if (!LABEL.test(label)) return undefined;
  if (/^\d+$/.test(labels[labels.length - 1])) return undefined;
  return s;
}

/**
 * Does the event URL `event` lie under the indicator URL `indicator` (both `key`s from `normaliseUrl`)?
 * Equal keys match; otherwise the indicator must be a prefix that ends at a boundary: the indicator ends
 * with "/" or "?", or the event continues with "/", "?", "#" (or "&" when the indicator has a query).
 * So `evil.com/api` matches `evil.com/api/v1` and `evil.com/api?x=1` but not `evil.com/apiary`.
 */
export function urlHasPrefix(event: string, indicator: string): boolean {
  if (!event.startsWith(indicator)) return false;
  if (event.length === indicator.length) return true;
  const last = indicator.charCodeAt(indicator.length - 1);
  if (last === 47 || last === 63) return true;
  const next = event.charCodeAt(indicator.length);
  if (next === 47 || next === 63 || next === 35) return true;
  return next === 38 && indicator.includes("?");
}
