import assert from "node:assert/strict";
import { test } from "node:test";
import { compileField } from "../../src/events/field-access.js";
import type { JsonObject } from "../../src/events/types.js";
import { parseIndicators, toThreatIntelDocuments } from "../../src/intel/index.js";

const SHA256 = "ab".repeat(32);
const MD5 = "ef".repeat(16);
const SHA1 = "cd".repeat(20);

const list = parseIndicators(
  [
    "type,value,label,source,file_name",
    "domain,evil[.]example,C2,Team A,",
    "url,hxxps://Stage.example:8443/Images/main/?k=v,staging,,",
    "ipv4,198.51.100.7,,,",
    "ipv6,2001:db8::9,,,",
    "cidr,203.0.113.0/24,,,",
    `sha256,${SHA256},,,ffmpeg.dll`,
    `md5,${MD5},,,`,
    `sha1,${SHA1},,,`,
  ].join("\n"),
  { name: "pack-iocs" },
);
const docs = toThreatIntelDocuments(list, { timestamp: "2023-03-30T12:00:00.000Z" });

function get(doc: JsonObject, field: string): unknown[] {
  return compileField(field)(doc);
}

test("one document per indicator with the threat-intel envelope the rules filter on", () => {
  assert.equal(docs.length, list.indicators.length);
  for (const doc of docs) {
    assert.deepEqual(get(doc, "@timestamp"), ["2023-03-30T12:00:00.000Z"]);
    assert.deepEqual(get(doc, "event.module"), ["threatintel"]);
    assert.deepEqual(get(doc, "event.kind"), ["enrichment"]);
    assert.deepEqual(get(doc, "event.category"), ["threat"]);
    assert.deepEqual(get(doc, "event.type"), ["indicator"]);
    assert.match(String(get(doc, "event.dataset")[0]), /^ti_/);
    assert.deepEqual(get(doc, "threat.feed.name"), ["pack-iocs"]);
    assert.equal(get(doc, "threat.indicator.type").length, 1);
    assert.deepEqual(get(doc, "labels.is_ioc_transform_source"), []);
  }
});

test("per-type fields match detection-rules' threat_mapping targets", () => {
  const [domain, url, v4, v6, cidr, sha256, md5, sha1] = docs;
  assert.deepEqual(get(domain, "threat.indicator.type"), ["domain-name"]);
  assert.deepEqual(get(domain, "threat.indicator.url.domain"), ["evil.example"]);
  assert.deepEqual(get(domain, "threat.indicator.provider"), ["Team A"]);
  assert.deepEqual(get(domain, "threat.indicator.description"), ["C2"]);

  assert.deepEqual(get(url, "threat.indicator.type"), ["url"]);
  assert.deepEqual(get(url, "threat.indicator.url.full"), ["https://Stage.example:8443/Images/main/?k=v"]);
  assert.deepEqual(get(url, "threat.indicator.url.original"), [
    "https://Stage.example:8443/Images/main/?k=v",
  ]);
  assert.deepEqual(get(url, "threat.indicator.url.domain"), ["stage.example"]);
  assert.deepEqual(get(url, "threat.indicator.url.path"), ["/Images/main/"]);
  assert.deepEqual(get(url, "threat.indicator.url.query"), ["k=v"]);
  assert.deepEqual(get(url, "threat.indicator.url.port"), [8443]);
  assert.deepEqual(get(url, "threat.indicator.url.scheme"), ["https"]);
  assert.deepEqual(get(url, "threat.indicator.provider"), ["pack-iocs"]);

  assert.deepEqual(get(v4, "threat.indicator.type"), ["ipv4-addr"]);
  assert.deepEqual(get(v4, "threat.indicator.ip"), ["198.51.100.7"]);
  assert.deepEqual(get(v6, "threat.indicator.type"), ["ipv6-addr"]);
  assert.deepEqual(get(v6, "threat.indicator.ip"), ["2001:db8::9"]);
  // An ip field cannot hold a range: the network is named but not put in threat.indicator.ip.
  assert.deepEqual(get(cidr, "threat.indicator.type"), ["ipv4-addr"]);
  assert.deepEqual(get(cidr, "threat.indicator.ip"), []);
  assert.deepEqual(get(cidr, "threat.indicator.name"), ["203.0.113.0/24"]);

  assert.deepEqual(get(sha256, "threat.indicator.type"), ["file"]);
  assert.deepEqual(get(sha256, "threat.indicator.file.hash.sha256"), [SHA256]);
  assert.deepEqual(get(sha256, "threat.indicator.file.name"), ["ffmpeg.dll"]);
  assert.deepEqual(get(md5, "threat.indicator.file.hash.md5"), [MD5]);
  assert.deepEqual(get(sha1, "threat.indicator.file.hash.sha1"), [SHA1]);
});

test("the timestamp defaults to now", () => {
  const before = Date.now();
  const [doc] = toThreatIntelDocuments(list);
  const ts = Date.parse(String(get(doc, "@timestamp")[0]));
  assert.ok(ts >= before - 1000 && ts <= Date.now() + 1000);
});
