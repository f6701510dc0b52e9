/**
 * IP addresses and networks as numbers: IPv4 as an unsigned 32-bit `number`, IPv6 as a 128-bit `bigint`.
 * Parsing is strict (dotted-quad IPv4 without leading zeros, RFC 4291 IPv6 text with optional embedded
 * IPv4 tail and zone id), so a version string such as `18.12.407.0` or a host name never passes as an IP.
 */

export interface IpAddress {
  readonly version: 4 | 6;
  /** IPv4: 0..2^32-1 as a number; IPv6: 0..2^128-1 as a bigint. */
  readonly bits: number | bigint;
}

export interface IpNetwork {
  readonly version: 4 | 6;
  /** The network address with host bits cleared. */
  readonly network: number | bigint;
  readonly prefix: number;
}

/** Parse `a.b.c.d`; undefined unless it is exactly four decimal octets 0-255 without leading zeros. */
export function parseIpv4(text: string): number | undefined {
  const n = text.length;
  if (n < 7 || n > 15) return undefined;
  let bits = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || octet > 255) return undefined;
      bits = bits * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return undefined;
    // No leading zeros: `010` is octal to some parsers and decimal to others.
    if (digits === 1 && octet === 0) return undefined;
    octet = octet * 10 + d;
    if (++digits > 3) return undefined;
  }
  return parts === 4 ? bits : undefined;
}

/**
 * Parse IPv6 text (`::1`, `2001:db8::8a2e:370:7334`, `::ffff:192.0.2.1`, `fe80::1%eth0`, `[::1]`).
 * The zone id is dropped: it names a local interface, not part of the address.
 */
export function parseIpv6(text: string): bigint | undefined {
  let s = text;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length < 2 || s.length > 45 || !s.includes(":")) return undefined;
  const groups: number[] = [];
  let tailV4: number | undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const parseSide = (side: string, allowV4Tail: boolean): number[] | undefined => {
    if (side === "") return [];
    const out: number[] = [];
    const pieces = side.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (allowV4Tail && i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        tailV4 = v4;
        continue;
      }
      if (piece.length === 0 || piece.length > 4) return undefined;
      let value = 0;
      for (let j = 0; j < piece.length; j++) {
        const h = hexDigit(piece.charCodeAt(j));
        if (h < 0) return undefined;
        value = value * 16 + h;
      }
      out.push(value);
    }
    return out;
  };
  const head = parseSide(halves[0], halves.length === 1);
  if (head === undefined) return undefined;
  const tail = halves.length === 2 ? parseSide(halves[1], true) : [];
  if (tail === undefined) return undefined;
  const v4Groups = tailV4 === undefined ? 0 : 2;
  const explicit = head.length + tail.length + v4Groups;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  groups.push(...head);
  for (let i = explicit; i < 8; i++) groups.push(0);
  groups.push(...tail);
  if (tailV4 !== undefined) groups.push(Math.floor(tailV4 / 65536), tailV4 % 65536);
  let bits = 0n;
  for (const g of groups) bits = (bits << 16n) | BigInt(g);
  return bits;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { version: 4, bits: v4 };
  const v6 = parseIpv6(text);
  if (v6 !== undefined) return { version: 6, bits: v6 };
  return undefined;
}

/** Parse `addr/prefix`. Host bits set in the address are cleared (`10.1.2.3/8` is `10.0.0.0/8`). */
export function parseCidr(text: string): IpNetwork | undefined {
  const slash = text.indexOf("/");
  if (slash < 0 || slash !== text.lastIndexOf("/")) return undefined;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const address = parseIp(text.slice(0, slash));
  if (!address) return undefined;
  if (address.version === 4) {
    if (prefix > 32) return undefined;
    return { version: 4, network: maskV4(address.bits as number, prefix), prefix };
  }
  if (prefix > 128) return undefined;
  return { version: 6, network: maskV6(address.bits as bigint, prefix), prefix };
}

export function maskV4(bits: number, prefix: number): number {
  if (prefix === 0) return 0;
  const hostBits = 32 - prefix;
  // Division keeps this in exact unsigned arithmetic (bitwise operators would go signed at 2^31).
  const size = 2 ** hostBits;
  return Math.floor(bits / size) * size;
}

const ALL_V6 = (1n << 128n) - 1n;

export function maskV6(bits: bigint, prefix: number): bigint {
  const hostBits = BigInt(128 - prefix);
  return bits & (ALL_V6 ^ ((1n << hostBits) - 1n));
}

export function formatIpv4(bits: number): string {
  return `${Math.floor(bits / 16777216) % 256}.${Math.floor(bits / 65536) % 256}.${Math.floor(bits / 256) % 256}.${bits % 256}`;
}

/** RFC 5952 text: lower-case, leading zeros dropped, the longest run (>= 2) of zero groups as `::`. */
export function formatIpv6(bits: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((bits >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

export function formatIp(address: IpAddress): string {
  return address.version === 4 ? formatIpv4(address.bits as number) : formatIpv6(address.bits as bigint);
}

export function formatCidr(network: IpNetwork): string {
  const address =
    network.version === 4 ? formatIpv4(network.network as number) : formatIpv6(network.network as bigint);
  return `${address}/${network.prefix}`;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else undefined. */
export function unmapIpv4(bits: bigint): number | undefined {
  return bits >> 32n === 0xffffn ? Number(bits & 0xffffffffn) : undefined;
}
