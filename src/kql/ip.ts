/**
 * IP values as Elasticsearch's `ip` field type sees them: every address is a 128-bit number, IPv4 stored
 * as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so `1.2.3.4` and `::ffff:1.2.3.4` are the same value.
 * Term queries accept an address or a CIDR block; ranges compare addresses numerically.
 */

const V4_MAPPED_PREFIX = 0xffffn << 32n;
const MAX = (1n << 128n) - 1n;

function parseV4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Parse an IPv4 or IPv6 address to its 128-bit value, or undefined. */
export function parseIp(text: string): bigint | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  if (!text.includes(":")) {
    const v4 = parseV4(text);
    return v4 === undefined ? undefined : V4_MAPPED_PREFIX | v4;
  }
  let head = text;
  let tail = "";
  const doubleColon = text.indexOf("::");
  if (doubleColon >= 0) {
    if (text.indexOf("::", doubleColon + 1) >= 0) return undefined;
    head = text.slice(0, doubleColon);
    tail = text.slice(doubleColon + 2);
  }
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseV4(piece);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
      out.push(Number.parseInt(piece, 16));
    }
    return out;
  };
  const left = groups(head);
  const right = groups(tail);
  if (!left || !right) return undefined;
  const total = left.length + right.length;
  if (doubleColon < 0 ? total !== 8 : total > 7) return undefined;
  const all = [...left, ...new Array<number>(8 - total).fill(0), ...right];
  let value = 0n;
  for (const group of all) value = (value << 16n) | BigInt(group);
  return value;
}

export interface IpRange {
  readonly low: bigint;
  readonly high: bigint;
}

/**
 * An address or a CIDR block as an inclusive range. An IPv4 prefix counts within the IPv4 part
 * (`10.0.0.0/8` is `::ffff:10.0.0.0/104`).
 */
export function parseIpOrCidr(text: string): IpRange | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) {
    const ip = parseIp(text);
    return ip === undefined ? undefined : { low: ip, high: ip };
  }
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const ip = parseIp(address);
  if (ip === undefined) return undefined;
  const isV4 = !address.includes(":");
  const prefix = Number(prefixText) + (isV4 ? 96 : 0);
  if (prefix > 128 || (isV4 && prefix > 128)) return undefined;
  if (isV4 && Number(prefixText) > 32) return undefined;
  const hostBits = BigInt(128 - prefix);
  const mask = hostBits === 128n ? MAX : (1n << hostBits) - 1n;
  const low = ip & ~mask & MAX;
  return { low, high: low | mask };
}
