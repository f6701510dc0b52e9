import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { JsonObject } from "../../src/events/types.js";
import {
  buildIndicatorIndex,
  DOMAIN_FIELDS,
  type IndicatorMatch,
  IP_FIELDS,
  parseIndicators,
  URL_FIELDS,
} from "../../src/intel/index.js";
import fc from "../fc.js";

const SHA256 = "ab".repeat(32);
const SHA1 = "cd".repeat(20);
const MD5 = "ef".repeat(16);

const list = parseIndicators(
  [
    "akamaicontainer[.]com",
    "Stage.Example.",
    SHA256.toUpperCase(),
    SHA1,
    MD5,
    "198.51.100.7",
    "203.0.113.0/24",
    "10.0.0.0/8",
    "2001:db8::/32",
    "2001:db8:ffff::9",
    "raw.githubusercontent.example/IconStore/images/main/",
    "hxxps://files.example/dl/payload",
    "http://ports.example:8080/p",
  ].join("\n"),
  { name: "test-iocs" },
);
const index = buildIndicatorIndex([list]);

function hits(doc: JsonObject): string[] {
  return index
    .matchEvent(doc)
    .map((m: IndicatorMatch) => `${m.field}=${m.value} -> ${m.indicator.value}`)
    .sort();
}

test("the list under test loaded completely", () => {
  assert.deepEqual(list.errors, []);
  assert.equal(index.size, 13);
});

test("domains match themselves and subdomains, case-insensitively, trailing dot ignored", () => {
  assert.deepEqual(hits({ dns: { question: { name: "akamaicontainer.com" } } }), [
    "dns.question.name=akamaicontainer.com -> akamaicontainer.com",
  ]);
  assert.deepEqual(hits({ "dns.question.name": "CDN.AkamaiContainer.com." }), [
    "dns.question.name=CDN.AkamaiContainer.com. -> akamaicontainer.com",
  ]);
  assert.deepEqual(hits({ destination: { domain: "a.b.stage.example" } }), [
    "destination.domain=a.b.stage.example -> stage.example",
  ]);
});

test("look-alike domains never match", () => {
  for (const name of [
    "notakamaicontainer.com",
    "akamaicontainer.com.example.net",
    "akamaicontainer.co",
    "akamaicontainer-com.example",
    "xakamaicontainer.com",
    "akamaicontainer.comx",
    "com",
    "",
  ]) {
    assert.deepEqual(hits({ dns: { question: { name } } }), [], name);
    assert.deepEqual(index.matchDomain(name), [], name);
  }
});

test("every domain field is read, and victim identity fields are not", () => {
  for (const field of DOMAIN_FIELDS) {
    const got = hits({ [field]: "x.akamaicontainer.com" });
    assert.equal(got.length, 1, field);
  }
  assert.deepEqual(hits({ host: { hostname: "akamaicontainer.com", domain: "akamaicontainer.com" } }), []);
  assert.deepEqual(hits({ user: { domain: "akamaicontainer.com" } }), []);
});

test("domain fields holding IPs are matched as IPs", () => {
  assert.deepEqual(hits({ dns: { answers: [{ data: "198.51.100.7" }, { data: "cname.example" }] } }), [
    "dns.answers.data=198.51.100.7 -> 198.51.100.7",
  ]);
  assert.deepEqual(hits({ url: { domain: "[2001:db8:ffff::9]" } }), [
    "url.domain=[2001:db8:ffff::9] -> 2001:db8::/32",
    "url.domain=[2001:db8:ffff::9] -> 2001:db8:ffff::9",
  ]);
});

test("hashes match in any letter case, in every ECS hash field and nested, dotted or mixed forms", () => {
  assert.deepEqual(hits({ file: { hash: { sha256: SHA256 } } }), [`file.hash.sha256=${SHA256} -> ${SHA256}`]);
  assert.deepEqual(hits({ "process.hash.sha1": SHA1.toUpperCase() }), [
    `process.hash.sha1=${SHA1.toUpperCase()} -> ${SHA1}`,
  ]);
  assert.deepEqual(hits({ process: { "parent.hash": { md5: MD5 } } }), [
    `process.parent.hash.md5=${MD5} -> ${MD5}`,
  ]);
  assert.deepEqual(hits({ dll: [{ hash: { md5: "00" } }, { hash: { md5: MD5 } }] }), [
    `dll.hash.md5=${MD5} -> ${MD5}`,
  ]);
  assert.deepEqual(hits({ email: { attachments: [{ file: { hash: { sha256: SHA256 } } }] } }), [
    `email.attachments.file.hash.sha256=${SHA256} -> ${SHA256}`,
  ]);
});

test("non-ECS hash paths, Sysmon Hashes strings and related.hash are read; threat.* is not", () => {
  assert.deepEqual(hits({ custom: { thing: { hash: { sha256: SHA256 } } } }), [
    `custom.thing.hash.sha256=${SHA256} -> ${SHA256}`,
  ]);
  assert.deepEqual(
    hits({ winlog: { event_data: { Hashes: `SHA1=${SHA1.toUpperCase()},MD5=0000,IMPHASH=${MD5}` } } }),
    [`winlog.event_data.Hashes=${SHA1.toUpperCase()} -> ${SHA1}`],
  );
  assert.deepEqual(hits({ related: { hash: [MD5] } }), [`related.hash=${MD5} -> ${MD5}`]);
  assert.deepEqual(hits({ threat: { indicator: { file: { hash: { sha256: SHA256 } } } } }), []);
  assert.deepEqual(hits({ "threat.enrichments": [{ indicator: { file: { hash: { md5: MD5 } } } }] }), []);
  // A hash value in a field that is not a hash field is not a match.
  assert.deepEqual(hits({ message: SHA256, file: { name: MD5 } }), []);
});

test("related.* only reports what no other field matched", () => {
  assert.deepEqual(hits({ file: { hash: { md5: MD5 } }, related: { hash: [MD5] } }), [
    `file.hash.md5=${MD5} -> ${MD5}`,
  ]);
  assert.deepEqual(hits({ destination: { ip: "198.51.100.7" }, related: { ip: ["198.51.100.7"] } }), [
    "destination.ip=198.51.100.7 -> 198.51.100.7",
  ]);
  assert.deepEqual(hits({ related: { hosts: ["akamaicontainer.com"] } }), [
    "related.hosts=akamaicontainer.com -> akamaicontainer.com",
  ]);
});

test("matchHash", () => {
  assert.deepEqual(
    index.matchHash(` ${SHA256.toUpperCase()} `).map((i) => i.value),
    [SHA256],
  );
  assert.deepEqual(index.matchHash(SHA256.slice(1)), []);
});

test("IPv4 exact and CIDR, IPv6 exact and CIDR, IPv4-mapped IPv6", () => {
  assert.deepEqual(hits({ source: { ip: "198.51.100.7" } }), ["source.ip=198.51.100.7 -> 198.51.100.7"]);
  assert.deepEqual(hits({ destination: { ip: "203.0.113.255" } }), [
    "destination.ip=203.0.113.255 -> 203.0.113.0/24",
  ]);
  assert.deepEqual(hits({ destination: { ip: "203.0.114.0" } }), []);
  assert.deepEqual(hits({ destination: { ip: "10.255.0.1" } }), ["destination.ip=10.255.0.1 -> 10.0.0.0/8"]);
  assert.deepEqual(hits({ destination: { ip: "11.0.0.0" } }), []);
  assert.deepEqual(hits({ client: { ip: "2001:DB8:1::1" } }), ["client.ip=2001:DB8:1::1 -> 2001:db8::/32"]);
  assert.deepEqual(hits({ client: { ip: "2001:db9::1" } }), []);
  assert.deepEqual(hits({ server: { ip: "2001:db8:ffff:0:0:0:0:9" } }), [
    "server.ip=2001:db8:ffff:0:0:0:0:9 -> 2001:db8::/32",
    "server.ip=2001:db8:ffff:0:0:0:0:9 -> 2001:db8:ffff::9",
  ]);
  assert.deepEqual(hits({ source: { ip: "::ffff:203.0.113.5" } }), [
    "source.ip=::ffff:203.0.113.5 -> 203.0.113.0/24",
  ]);
  assert.deepEqual(hits({ dns: { resolved_ip: ["192.0.2.1", "198.51.100.7"] } }), [
    "dns.resolved_ip=198.51.100.7 -> 198.51.100.7",
  ]);
  assert.deepEqual(hits({ source: { ip: "not an ip" } }), []);
  assert.deepEqual(index.matchIp("198.51.100.7").length, 1);
});

test("every ECS ip field is read", () => {
  for (const field of IP_FIELDS) assert.equal(hits({ [field]: "10.1.1.1" }).length, 1, field);
});

test("URL indicators: prefix at a path boundary, scheme and default port ignored, host case ignored", () => {
  const ind = "raw.githubusercontent.example/IconStore/images/main/";
  assert.deepEqual(
    hits({ url: { full: "https://RAW.githubusercontent.example/IconStore/images/main/icon13.ico" } }),
    [`url.full=https://RAW.githubusercontent.example/IconStore/images/main/icon13.ico -> ${ind}`],
  );
  assert.deepEqual(
    hits({ url: { original: "http://raw.githubusercontent.example:80/IconStore/images/main/" } }).length,
    1,
  );
  // Path case matters; other folders and look-alike hosts do not match.
  assert.deepEqual(
    hits({ url: { full: "https://raw.githubusercontent.example/iconstore/images/main/icon1.ico" } }),
    [],
  );
  assert.deepEqual(
    hits({ url: { full: "https://raw.githubusercontent.example/IconStore/images/mainline/x" } }),
    [],
  );
  assert.deepEqual(
    hits({ url: { full: "https://x.raw.githubusercontent.example/IconStore/images/main/x" } }),
    [],
  );
  // Boundary: /dl/payload matches /dl/payload, /dl/payload/x, /dl/payload?x=1 but not /dl/payload2.
  assert.equal(hits({ url: { full: "https://files.example/dl/payload" } }).length, 1);
  assert.equal(hits({ url: { full: "https://files.example/dl/payload/x" } }).length, 1);
  assert.equal(hits({ url: { full: "https://files.example:443/dl/payload?x=1#f" } }).length, 1);
  assert.equal(hits({ url: { full: "https://files.example/dl/payload2" } }).length, 0);
  // Non-default ports must agree.
  assert.equal(hits({ url: { full: "http://ports.example:8080/p/q" } }).length, 1);
  assert.equal(hits({ url: { full: "http://ports.example/p/q" } }).length, 0);
});

test("URLs composed from url.domain + url.path, and relative url.original", () => {
  assert.deepEqual(hits({ url: { domain: "files.example", path: "/dl/payload/2" } }), [
    "url.domain+url.path=files.example/dl/payload/2 -> files.example/dl/payload",
  ]);
  assert.deepEqual(hits({ url: { domain: "files.example", original: "/dl/payload" } }), [
    "url.original=/dl/payload -> files.example/dl/payload",
  ]);
  assert.deepEqual(hits({ url: { domain: "ports.example", port: 8080, path: "/p" } }).length, 1);
});

test("a domain indicator matches the host of url.full when the event has no url.domain", () => {
  assert.deepEqual(hits({ url: { full: "https://cdn.akamaicontainer.com/x" } }), [
    "url.full=https://cdn.akamaicontainer.com/x -> akamaicontainer.com",
  ]);
  assert.deepEqual(
    hits({ url: { full: "https://cdn.akamaicontainer.com/x", domain: "cdn.akamaicontainer.com" } }),
    ["url.domain=cdn.akamaicontainer.com -> akamaicontainer.com"],
  );
  assert.deepEqual(index.matchUrl("https://raw.githubusercontent.example/IconStore/images/main/a").length, 1);
});

test("one match per indicator, field and value; several indicators per event", () => {
  const doc = {
    dns: { question: { name: ["akamaicontainer.com", "akamaicontainer.com"] } },
    destination: { ip: "10.1.2.3" },
    file: { hash: { md5: MD5, sha1: SHA1 } },
  };
  assert.deepEqual(hits(doc), [
    "destination.ip=10.1.2.3 -> 10.0.0.0/8",
    "dns.question.name=akamaicontainer.com -> akamaicontainer.com",
    `file.hash.md5=${MD5} -> ${MD5}`,
    `file.hash.sha1=${SHA1} -> ${SHA1}`,
  ]);
});

test("events with odd shapes never throw", () => {
  const odd: JsonObject[] = [
    {},
    { dns: null },
    { dns: { question: { name: 5 } } },
    { url: { full: 42n } },
    { url: { full: "::::" } },
    { url: { domain: "" } },
    { source: { ip: ["", null, {}] as never } },
    { file: { hash: { md5: { nested: MD5 } } } },
  ];
  for (const doc of odd) assert.doesNotThrow(() => index.matchEvent(doc));
  let deep: JsonObject = { hash: { md5: MD5 } };
  for (let i = 0; i < 10_000; i++) deep = { a: deep };
  assert.doesNotThrow(() => index.matchEvent(deep));
});

test("an empty index matches nothing", () => {
  const empty = buildIndicatorIndex([]);
  assert.deepEqual(empty.matchEvent({ dns: { question: { name: "a.example" } } }), []);
  assert.equal(empty.size, 0);
});

test("IP_FIELDS is exactly ECS's ip fields outside threat.*; DOMAIN_FIELDS and URL_FIELDS exist in ECS", () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const ecsPath = join(here, "../../../src/schema/ecs-types.json");
  const fields = (JSON.parse(readFileSync(ecsPath, "utf8")) as { fields: Record<string, string> }).fields;
  const ecsIp = Object.keys(fields).filter((f) => fields[f] === "ip" && !f.startsWith("threat."));
  assert.deepEqual([...IP_FIELDS].sort(), ecsIp.sort());
  for (const f of [...DOMAIN_FIELDS, ...URL_FIELDS]) assert.ok(f in fields, f);
});

test("matching is fast: 5,000 indicators, 50,000 events", () => {
  const lines: string[] = [];
  for (let i = 0; i < 1000; i++) {
    lines.push(`c2-${i}.bad${i % 97}.example`, `${i.toString(16).padStart(8, "0").repeat(8)}`);
    lines.push(`198.${i % 256}.${(i >> 8) % 256}.1`, `100.${i % 256}.0.0/16`, `dl${i}.example/stage/${i}/`);
  }
  const big = buildIndicatorIndex([parseIndicators(lines.join("\n"), { name: "big" })]);
  assert.equal(big.size, 5000);
  const started = process.hrtime.bigint();
  let found = 0;
  for (let e = 0; e < 50_000; e++) {
    const doc: JsonObject = {
      "@timestamp": "2023-03-30T00:00:00Z",
      event: { category: ["network"] },
      dns: { question: { name: `host${e}.sub.bad${e % 200}.example` } },
      source: { ip: `10.0.${e % 256}.1` },
      destination: { ip: `100.${e % 300}.1.1` },
      process: { name: "app.exe", hash: { sha256: e.toString(16).padStart(64, "0") } },
      url: { full: `https://dl${e % 2000}.example/stage/${e % 2000}/x.bin` },
    };
    found += big.matchEvent(doc).length;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(found > 0);
  assert.ok(ms < 5000, `took ${ms} ms`);
});

test("property: the event's text, when given, never changes the matches (the hash text gate)", () => {
  const pieces = [
    SHA256,
    SHA256.toUpperCase(),
    SHA1,
    MD5,
    MD5.toUpperCase(),
    "ab".repeat(31),
    "0f".repeat(16),
  ];
  const around = ["", " ", "\f", "\t", "f", "0", "\n ", "x", "ff"];
  const valueArb = fc
    .tuple(fc.constantFrom(...around), fc.constantFrom(...pieces), fc.constantFrom(...around))
    .map(([a, h, b]) => `${a}${h}${b}`);
  const fieldArb = fc.constantFrom(
    ["file", "hash", "sha256"],
    ["process", "hash", "md5"],
    ["process.parent.hash", "sha1"],
    ["related", "hash"],
    ["winlog", "event_data", "Hashes"],
    ["message"],
  );
  const docArb = fc
    .array(fc.tuple(fieldArb, valueArb, fc.boolean()), { minLength: 1, maxLength: 4 })
    .map((entries) => {
      const doc: JsonObject = {};
      for (const [path, value, sysmon] of entries) {
        let node = doc;
        for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as JsonObject;
        node[path[path.length - 1]] =
          path[path.length - 1] === "Hashes" && sysmon ? `SHA1=${value},MD5=0` : value;
      }
      return doc;
    });
  // Texts as encoders write them: plain, or with a digit or letter of a long hex run escaped as \u00XX.
  const rawArb = (doc: JsonObject) =>
    fc.nat().map((n) => {
      const plain = JSON.stringify(doc);
      const runs = [...plain.matchAll(/[0-9a-fA-F]{32,}/g)];
      if (n % 2 === 0 || runs.length === 0) return plain;
      const run = runs[n % runs.length];
      const at = (run.index ?? 0) + (n % run[0].length);
      // Not the letter of an escape such as \f.
      if (plain[at - 1] === "\\") return plain;
      return `${plain.slice(0, at)}\\u00${plain.charCodeAt(at).toString(16)}${plain.slice(at + 1)}`;
    });
  let matched = 0;
  fc.assert(
    fc.property(
      docArb.chain((doc) => fc.tuple(fc.constant(doc), rawArb(doc))),
      ([doc, raw]) => {
        assert.deepEqual(JSON.parse(raw), doc);
        const expected = index.matchEvent(doc);
        if (expected.length > 0) matched++;
        assert.deepEqual(index.matchEvent(doc, raw), expected);
      },
    ),
    { numRuns: 2000 },
  );
  assert.ok(matched > 200, `events with hash matches were generated (${matched})`);
  // A digit or letter escaped in the middle of a hash leaves no run long enough: the text is not trusted.
  const doc = { file: { hash: { sha256: SHA256 } } };
  const escaped = JSON.stringify(doc).replace(SHA256, `${SHA256.slice(0, 40)}\\u0061${SHA256.slice(41)}`);
  assert.deepEqual(JSON.parse(escaped), doc);
  assert.equal(index.matchEvent(doc, escaped).length, 1);
});
