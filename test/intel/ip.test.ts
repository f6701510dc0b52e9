import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatIpv4,
  formatIpv6,
  maskV4,
  maskV6,
  parseCidr,
  parseIpv4,
  parseIpv6,
  unmapIpv4,
} from "../../src/intel/ip.js";
import fc from "../fc.js";

test("IPv4 parsing is strict", () => {
  assert.equal(parseIpv4("0.0.0.0"), 0);
  assert.equal(parseIpv4("255.255.255.255"), 2 ** 32 - 1);
  assert.equal(parseIpv4("192.0.2.1"), 0xc0000201);
  for (const bad of [
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "1.2.3.256",
    "1.2.3.-1",
    "1..3.4",
    "a.b.c.d",
    "1.2.3.4 ",
  ]) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

test("IPv6 parsing covers compression, embedded IPv4, zones and brackets", () => {
  assert.equal(parseIpv6("::"), 0n);
  assert.equal(parseIpv6("::1"), 1n);
  assert.equal(parseIpv6("1::"), 1n << 112n);
  assert.equal(parseIpv6("::ffff:192.0.2.1"), (0xffffn << 32n) | 0xc0000201n);
  assert.equal(parseIpv6("fe80::1%eth0"), (0xfe80n << 112n) | 1n);
  assert.equal(parseIpv6("[2001:db8::1]"), (0x20010db8n << 96n) | 1n);
  assert.equal(parseIpv6("1:2:3:4:5:6:7:8"), 0x00010002000300040005000600070008n);
  for (const bad of [
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "12345::",
    "::g",
    ":1:2",
    "1:2:3:4:5:6:7::8:9",
    "1.2.3.4",
  ]) {
    assert.equal(parseIpv6(bad), undefined, bad);
  }
});

test("IPv6 formatting follows RFC 5952", () => {
  assert.equal(formatIpv6(0n), "::");
  assert.equal(formatIpv6(1n), "::1");
  assert.equal(formatIpv6(parseIpv6("2001:db8:0:0:1:0:0:1") as bigint), "2001:db8::1:0:0:1");
  assert.equal(formatIpv6(parseIpv6("2001:db8:0:1:1:1:1:1") as bigint), "2001:db8:0:1:1:1:1:1");
  assert.equal(formatIpv6(parseIpv6("2001:0DB8::0001") as bigint), "2001:db8::1");
});

test("IPv4 and IPv6 text round-trips (property)", () => {
  fc.assert(
    fc.property(fc.ipV4(), (text) => {
      const bits = parseIpv4(text);
      assert.notEqual(bits, undefined);
      assert.equal(parseIpv4(formatIpv4(bits as number)), bits);
    }),
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (bits) => {
      assert.equal(parseIpv6(formatIpv6(bits)), bits);
    }),
  );
});

test("CIDR masks clear host bits, v4 and v6", () => {
  assert.deepEqual(parseCidr("10.1.2.3/8"), { version: 4, network: 0x0a000000, prefix: 8 });
  assert.deepEqual(parseCidr("0.0.0.0/0"), { version: 4, network: 0, prefix: 0 });
  assert.equal(maskV4(0xffffffff, 1), 0x80000000);
  assert.equal(maskV4(0xffffffff, 32), 0xffffffff);
  assert.equal(maskV6((1n << 128n) - 1n, 64), ((1n << 64n) - 1n) << 64n);
  assert.equal(parseCidr("2001:db8::1/129"), undefined);
  assert.equal(parseCidr("1.2.3.4/x"), undefined);
  assert.equal(parseCidr("1.2.3.4/8/8"), undefined);
});

test("IPv4-mapped IPv6 unmaps", () => {
  assert.equal(unmapIpv4(parseIpv6("::ffff:10.0.0.1") as bigint), 0x0a000001);
  assert.equal(unmapIpv4(parseIpv6("::10.0.0.1") as bigint), undefined);
});
