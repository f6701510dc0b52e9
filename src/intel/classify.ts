/**
 * One indicator value: refang it, infer (or check) its type, and normalise it. Shared by every format.
 */
import { formatCidr, formatIpv4, formatIpv6, parseCidr, parseIpv4, parseIpv6 } from "./ip.js";
import { refang } from "./refang.js";
import type { IndicatorType } from "./types.js";
import { normaliseDomain, normaliseUrl } from "./url.js";

export type ParsedValue =
  | { readonly ok: true; readonly type: IndicatorType; readonly value: string }
  | {
      readonly ok: false;
      readonly message: string;
      /** True when the value is well-formed but of a kind Quarry does not match (an e-mail address). */
      readonly unsupported: boolean;
    };

/**
 * What a list declares a value to be. Families, not exact types, because lists are loose: an `ip` column
 * holds IPv4, IPv6 and networks; a `url` column often holds bare domains (those load as domains, so they
 * also match DNS events); a `hostname` column sometimes holds an IP.
 */
export type TypeHint = IndicatorType | "ip" | "hash" | "host";

const HASH_LENGTHS: Readonly<Record<number, IndicatorType>> = { 32: "md5", 40: "sha1", 64: "sha256" };
const HASH_PREFIX = /^(md5|sha-?1|sha-?256)\s*[=:]\s*/i;
const HEX = /^[0-9a-fA-F]+$/;

const FAMILY: Readonly<Record<TypeHint, readonly IndicatorType[]>> = {
  md5: ["md5"],
  sha1: ["sha1"],
  sha256: ["sha256"],
  hash: ["md5", "sha1", "sha256"],
  ipv4: ["ipv4", "cidr"],
  ipv6: ["ipv6", "cidr"],
  cidr: ["cidr", "ipv4", "ipv6"],
  ip: ["ipv4", "ipv6", "cidr"],
  domain: ["domain", "ipv4", "ipv6"],
  host: ["domain", "ipv4", "ipv6"],
  url: ["url", "domain", "ipv4", "ipv6"],
};

const DESCRIBE: Readonly<Record<IndicatorType, string>> = {
  domain: "a domain",
  url: "a URL",
  ipv4: "an IPv4 address",
  ipv6: "an IPv6 address",
  cidr: "a network (CIDR)",
  md5: "an MD5 hash",
  sha1: "a SHA-1 hash",
  sha256: "a SHA-256 hash",
};

/**
 * Parse one indicator as written (defanged forms accepted). Without a hint the type is inferred:
 * 32/40/64 hex digits are MD5/SHA-1/SHA-256 (an `md5=`/`sha256:` prefix is allowed), then IPv4/IPv6,
 * `addr/prefix` networks (a /32 or /128 network is loaded as its address), text with a scheme or a path
 * is a URL, and a dotted name is a domain. With a hint the inferred type must belong to the hint's family.
 */
export function parseIndicatorValue(text: string, hint?: TypeHint): ParsedValue {
  const refanged = stripQuotes(refang(text));
  if (refanged === "") return fail("empty value");
  if (refanged.length > 8192) return fail("value longer than 8192 characters");
  if (/\s/.test(refanged)) return fail(`\`${clip(refanged)}\` contains whitespace`);
  const inferred = infer(refanged, hint);
  if (!inferred.ok) {
    return hint && !inferred.unsupported ? fail(`declared ${hint} but ${inferred.message}`) : inferred;
  }
  if (hint && !FAMILY[hint].includes(inferred.type)) {
    return fail(`declared ${hint} but \`${clip(refanged)}\` is ${DESCRIBE[inferred.type]}`);
  }
  return inferred;
}

function infer(s: string, hint: TypeHint | undefined): ParsedValue {
  const prefixed = HASH_PREFIX.exec(s);
  if (prefixed) {
    const hex = s.slice(prefixed[0].length);
    const want = prefixed[1].toLowerCase().replace("-", "") as IndicatorType;
    if (!HEX.test(hex) || HASH_LENGTHS[hex.length] !== want) {
      return fail(`\`${clip(s)}\` is not a valid ${want.toUpperCase()} hash`);
    }
    return ok(want, hex.toLowerCase());
  }
  if (HEX.test(s)) {
    const type = HASH_LENGTHS[s.length];
    if (type) return ok(type, s.toLowerCase());
    if (hint === "hash" || hint === "md5" || hint === "sha1" || hint === "sha256") {
      return fail(`\`${clip(s)}\` has ${s.length} hex digits; MD5, SHA-1 and SHA-256 have 32, 40 and 64`);
    }
  }
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return ok("ipv4", formatIpv4(v4));
  const v6 = parseIpv6(s);
  if (v6 !== undefined) return ok("ipv6", formatIpv6(v6));
  if (s.includes("/") && !s.includes("://")) {
    const net = parseCidr(s);
    if (net) {
      if (net.prefix === (net.version === 4 ? 32 : 128)) {
        return net.version === 4
          ? ok("ipv4", formatIpv4(net.network as number))
          : ok("ipv6", formatIpv6(net.network as bigint));
      }
      return ok("cidr", formatCidr(net));
    }
    if (
      /^[0-9a-fA-F:.[\]]+\/\d+$/.test(s) &&
      (parseIpv4(s.slice(0, s.indexOf("/"))) !== undefined || s.includes(":"))
    ) {
      return fail(`\`${clip(s)}\` is not a valid network (prefix too long or bad address)`);
    }
  }
  if (/^[^@/:]+@[^@/:]+\.[^@/:]+$/.test(s)) {
    return {
      ok: false,
      message: `\`${clip(s)}\` is an e-mail address; Quarry does not match those`,
      unsupported: true,
    };
  }
  const looksLikeUrl =
    s.includes("://") || s.includes("/") || s.includes("?") || (s.includes(":") && !s.includes("::"));
  if (looksLikeUrl) {
    const url = normaliseUrl(s);
    if (url) {
      // A bare host declared as a URL (`evil.com`, `http://evil.com` stays a URL) loads as the host.
      const bare = !s.includes("://") && url.rest === "/" && url.port === "" && !/[/?]/.test(s);
      if (bare) return infer(url.host.startsWith("[") ? url.host.slice(1, -1) : url.host, hint);
      return ok("url", url.key);
    }
    if (s.includes("://")) return fail(`\`${clip(s)}\` is not a valid URL`);
  }
  const domain = normaliseDomain(s);
  if (domain !== undefined) return ok("domain", domain);
  return fail(`\`${clip(s)}\` is not a domain, URL, IP address, network or MD5/SHA-1/SHA-256 hash`);
}

function stripQuotes(s: string): string {
  if (s.length >= 2) {
    const first = s[0];
    const last = s[s.length - 1];
    if ((first === '"' || first === "'" || first === "`") && last === first) return s.slice(1, -1).trim();
    if (first === "<" && last === ">") return s.slice(1, -1).trim();
  }
  return s;
}

function ok(type: IndicatorType, value: string): ParsedValue {
  return { ok: true, type, value };
}

function fail(message: string): ParsedValue {
  return { ok: false, message, unsupported: false };
}

/** Shorten a value for a message (values come from untrusted files and can be huge). */
export function clip(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
