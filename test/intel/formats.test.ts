import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type IndicatorList, loadIndicatorFile, parseIndicators } from "../../src/intel/index.js";
import fc from "../fc.js";

const SHA256_A = "a".repeat(64);
const SHA1_B = "b".repeat(40);
const MD5_C = "c".repeat(32);

function summary(list: IndicatorList): string[] {
  return list.indicators.map((i) => `${i.type} ${i.value}`);
}

test("plain text: comments, blank lines, defanged values, inline comments, line numbers", () => {
  const text = [
    "# Campaign X C2 servers",
    "evil[.]example",
    "",
    "hxxps://stage[.]example/drop/  # staging folder",
    `${SHA256_A};payload dropper`,
    "198.51.100.0/24 hosting range",
    "not a thing at all",
    "// second section",
    "2001:db8::5",
  ].join("\r\n");
  const list = parseIndicators(text, { name: "x.txt" });
  assert.equal(list.format, "text");
  assert.deepEqual(summary(list), [
    "domain evil.example",
    "url stage.example/drop/",
    `sha256 ${SHA256_A}`,
    "cidr 198.51.100.0/24",
    "ipv6 2001:db8::5",
  ]);
  const [domain, url, hash, net, v6] = list.indicators;
  assert.equal(domain.original, "evil[.]example");
  assert.equal(domain.label, "Campaign X C2 servers");
  assert.equal(domain.metadata.section, "Campaign X C2 servers");
  assert.deepEqual(domain.origin, { file: "x.txt", line: 2 });
  assert.equal(url.label, "staging folder");
  assert.equal(hash.label, "payload dropper");
  assert.equal(net.label, "hosting range");
  assert.equal(v6.label, "second section");
  assert.equal(domain.list, "x.txt");
  assert.deepEqual(list.errors, [{ file: "x.txt", line: 7, message: list.errors[0].message }]);
  assert.match(list.errors[0].message, /`not` is not a domain/);
});

test("plain text: a URL with ; or , in it is not cut", () => {
  const list = parseIndicators("http://evil.example/a;b,c\n", { name: "u" });
  assert.deepEqual(summary(list), ["url evil.example/a;b,c"]);
});

test("CSV: Quarry's pack format keeps label, source and extra columns as metadata", () => {
  const text = [
    "type,value,label,source,version,os,role",
    `sha256,${SHA256_A},trojanized library,Vendor A,18.12.407,windows,loader`,
    "domain,evil[.]example,C2,Vendor B,,,c2",
    "url,hxxps://stage.example/images/main/,staging,Vendor B,,,",
    "ipv4,not-an-ip,broken row,Vendor B,,,",
    "mutex,Global\\Foo,unsupported,Vendor B,,,",
  ].join("\n");
  const list = parseIndicators(text, { name: "pack.csv" });
  assert.equal(list.format, "csv");
  assert.deepEqual(summary(list), [
    `sha256 ${SHA256_A}`,
    "domain evil.example",
    "url stage.example/images/main/",
  ]);
  const [hash, domain] = list.indicators;
  assert.equal(hash.label, "trojanized library");
  assert.equal(hash.source, "Vendor A");
  assert.deepEqual(hash.metadata, { version: "18.12.407", os: "windows", role: "loader" });
  assert.deepEqual(domain.metadata, { role: "c2" });
  assert.equal(hash.origin.line, 2);
  assert.equal(list.errors.length, 1);
  assert.equal(list.errors[0].line, 5);
  assert.match(list.errors[0].message, /declared ip/);
  assert.equal(list.warnings.length, 1);
  assert.match(list.warnings[0].message, /`mutex` is not one Quarry matches/);
});

test("CSV: value/entity_type/description layout with several hashes in one quoted field", () => {
  const text = [
    "value,entity_type,description",
    "c2.evil.example,hostname,Campaign infrastructure",
    "someone@mail.example,emailwhois,Registrant",
    `"${SHA256_A},${SHA1_B},${MD5_C}",file,Trojanized installer`,
  ].join("\n");
  const list = parseIndicators(text, { name: "v.csv" });
  assert.deepEqual(summary(list), [
    "domain c2.evil.example",
    `sha256 ${SHA256_A}`,
    `sha1 ${SHA1_B}`,
    `md5 ${MD5_C}`,
  ]);
  assert.ok(list.indicators.slice(1).every((i) => i.label === "Trojanized installer" && i.origin.line === 4));
  assert.equal(list.errors.length, 0);
  assert.equal(list.warnings.length, 1);
  assert.equal(list.warnings[0].line, 3);
});

test("CSV: Indicator,Data,Note layout (type in `Indicator`), BOM, CRLF, bare domains typed URL", () => {
  const text = [
    "\ufeffIndicator,Data,Note",
    "Description,https://news.example/report \u200e,About this list",
    `SHA256,${SHA256_A},WIN: MSI product-1.2.3.msi`,
    "URL,stage.example/images/main/,Used for staging",
    "URL,c2[.]example,C2 (callhome)",
  ].join("\r\n");
  const list = parseIndicators(text, { name: "s.csv" });
  assert.equal(list.format, "csv");
  assert.deepEqual(summary(list), [
    `sha256 ${SHA256_A}`,
    "url stage.example/images/main/",
    "domain c2.example",
  ]);
  const [hash, , domain] = list.indicators;
  assert.deepEqual(hash.metadata, { os: "windows", file_name: "product-1.2.3.msi", version: "1.2.3" });
  assert.equal(domain.metadata.declared_type, "URL");
  assert.equal(list.warnings.length, 1);
  assert.match(list.warnings[0].message, /`Description`/);
});

test("CSV: typed columns without a value column; empty cells skipped with a warning", () => {
  const text = [
    "File,Created,Domain",
    "a.ico,2022-12-07,one[.]example",
    "README.md,2022-12-07,",
    "b.ico,2023-01-07,two[.]example",
  ].join("\n");
  const list = parseIndicators(text, { name: "g.csv" });
  assert.deepEqual(summary(list), ["domain one.example", "domain two.example"]);
  assert.deepEqual(list.indicators[0].metadata, { file: "a.ico", created: "2022-12-07" });
  assert.deepEqual(
    list.warnings.map((w) => w.line),
    [3],
  );
});

test("CSV: malformed rows are reported and the rest loads", () => {
  const text = [
    "type,value",
    "domain,ok.example",
    "domain,x.example,extra,fields",
    'domain,"unterminated',
  ].join("\n");
  const list = parseIndicators(text, { name: "m.csv" });
  assert.deepEqual(summary(list), ["domain ok.example"]);
  assert.deepEqual(
    list.errors.map((e) => e.line),
    [4, 3],
  );
});

test("CSV: semicolon-delimited and tab-delimited headers", () => {
  assert.deepEqual(summary(parseIndicators("type;value\ndomain;a.example\n", { name: "a" })), [
    "domain a.example",
  ]);
  assert.deepEqual(summary(parseIndicators("indicator\ttype\n192.0.2.9\tip\n", { name: "b" })), [
    "ipv4 192.0.2.9",
  ]);
});

function stixBundle(patterns: readonly { pattern: string; name?: string; extra?: object }[]): string {
  const objects: object[] = [
    { type: "identity", spec_version: "2.1", id: "identity--1", name: "Example Intel Team" },
  ];
  patterns.forEach((p, n) => {
    objects.push({
      type: "indicator",
      spec_version: "2.1",
      id: `indicator--${n}`,
      created_by_ref: "identity--1",
      pattern_type: "stix",
      pattern: p.pattern,
      valid_from: "2023-03-30T00:00:00Z",
      ...(p.name ? { name: p.name } : {}),
      ...p.extra,
    });
  });
  return JSON.stringify({ type: "bundle", id: "bundle--1", objects }, null, 2);
}

test("STIX: every supported object path, OR combinations, IN lists, labels and sources", () => {
  const text = stixBundle([
    { pattern: "[domain-name:value = 'evil.example']", name: "C2 domain" },
    { pattern: "[url:value = 'https://stage.example/a/b']" },
    { pattern: "[ipv4-addr:value = '198.51.100.7'] OR [ipv6-addr:value = '2001:db8::/48']" },
    {
      pattern: `[file:hashes.'SHA-256' = '${SHA256_A}' OR file:hashes.MD5 = '${MD5_C}' OR file:hashes.'SHA-1' = '${SHA1_B}']`,
    },
    {
      pattern: "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",
      extra: { indicator_types: ["malicious-activity"] },
    },
    { pattern: "[ipv4-addr:value ISSUBSET '203.0.113.0/24']" },
  ]);
  const list = parseIndicators(text, { name: "b.json" });
  assert.equal(list.format, "stix");
  assert.deepEqual(summary(list), [
    "domain evil.example",
    "url stage.example/a/b",
    "ipv4 198.51.100.7",
    "cidr 2001:db8::/48",
    `sha256 ${SHA256_A}`,
    `md5 ${MD5_C}`,
    `sha1 ${SHA1_B}`,
    "ipv4 192.0.2.1",
    "ipv4 192.0.2.2",
    "cidr 203.0.113.0/24",
  ]);
  const first = list.indicators[0];
  assert.equal(first.label, "C2 domain");
  assert.equal(first.source, "Example Intel Team");
  assert.equal(first.metadata.stix_id, "indicator--0");
  assert.equal(first.metadata.valid_from, "2023-03-30T00:00:00Z");
  assert.ok((first.origin.line ?? 0) > 1);
  assert.equal(list.indicators[7].label, "malicious-activity");
  assert.deepEqual(list.errors, []);
  assert.deepEqual(list.warnings, []);
});

test("STIX: AND narrows (loaded with a warning), unsupported paths and bad patterns are reported", () => {
  const text = stixBundle([
    { pattern: `[file:hashes.MD5 = '${MD5_C}' AND file:name = 'x.dll']` },
    { pattern: "[email-addr:value = 'a@mail.example']" },
    { pattern: "[domain-name:value = 'unterminated]" },
    { pattern: "[domain-name:value = 'ok.example'] WITHIN 300 SECONDS" },
    { pattern: "[domain-name:value != 'not.example']" },
  ]);
  const list = parseIndicators(text, { name: "b.json" });
  assert.deepEqual(summary(list), [`md5 ${MD5_C}`, "domain ok.example"]);
  assert.equal(list.errors.length, 1);
  assert.match(list.errors[0].message, /indicator--2: bad pattern at column \d+: unterminated string/);
  assert.equal(list.warnings.length, 3);
  assert.match(list.warnings[0].message, /AND\/FOLLOWEDBY/);
  assert.match(list.warnings[1].message, /no comparison Quarry can match/);
});

test("STIX: non-STIX pattern types, revoked indicators, single objects and invalid JSON", () => {
  const yara = JSON.stringify({
    type: "indicator",
    id: "indicator--y",
    pattern_type: "yara",
    pattern: "rule x {}",
  });
  const l1 = parseIndicators(yara, { name: "y" });
  assert.equal(l1.indicators.length, 0);
  assert.match(l1.warnings[0].message, /pattern_type `yara`/);
  const revoked = JSON.stringify({
    type: "indicator",
    id: "indicator--r",
    revoked: true,
    pattern: "[domain-name:value = 'a.example']",
  });
  assert.match(parseIndicators(revoked, { name: "r" }).warnings[0].message, /revoked/);
  const single = JSON.stringify({
    type: "indicator",
    id: "indicator--s",
    pattern: "[domain-name:value = 'a.example']",
  });
  assert.deepEqual(summary(parseIndicators(single, { name: "s" })), ["domain a.example"]);
  const broken = parseIndicators('{"type": "bundle",\n "objects": [\n', { name: "j" });
  assert.equal(broken.format, "stix");
  assert.match(broken.errors[0].message, /not valid JSON/);
  const notStix = parseIndicators('{"hello": 1}', { name: "n" });
  assert.match(notStix.errors[0].message, /not a STIX bundle/);
});

test("STIX: deeply nested patterns are a clean error, not a stack overflow", () => {
  const deep = `${"(".repeat(10_000)}[domain-name:value = 'a.example']${")".repeat(10_000)}`;
  const list = parseIndicators(stixBundle([{ pattern: deep }]), { name: "d" });
  assert.equal(list.indicators.length, 0);
  assert.match(list.errors[0].message, /nested deeper than/);
});

test("Sigma: hash and host values from positive selections; filters and other fields ignored", () => {
  const text = [
    "title: Example emerging threat",
    "id: 00000000-0000-0000-0000-000000000000",
    "logsource:",
    "    category: dns_query",
    "detection:",
    "    selection:",
    "        QueryName|contains:",
    "            - 'evil.example'",
    "            - 'other.example' # note",
    "    selection_hashes:",
    "        Hashes|contains:",
    `            - 'SHA256=${SHA256_A.toUpperCase()}'`,
    `            - 'MD5=${MD5_C},IMPHASH=${"d".repeat(32)}'`,
    "        Image|endswith: '\\app.exe'",
    "    filter_main:",
    "        QueryName|endswith: '.good.example'",
    "    selection_ips:",
    "        DestinationIp: ['192.0.2.1', '192.0.2.2']",
    "    selection_re:",
    "        QueryName|re: 'x.*'",
    "    condition: (selection or selection_hashes or selection_ips) and not filter_main",
    "level: high",
  ].join("\n");
  const list = parseIndicators(text, { name: "r.yml" });
  assert.equal(list.format, "sigma");
  assert.deepEqual(summary(list), [
    "domain evil.example",
    "domain other.example",
    `sha256 ${SHA256_A}`,
    `md5 ${MD5_C}`,
    "ipv4 192.0.2.1",
    "ipv4 192.0.2.2",
  ]);
  assert.equal(list.indicators[0].label, "Example emerging threat");
  assert.equal(list.indicators[0].metadata.sigma_field, "QueryName");
  assert.equal(list.indicators[0].metadata.sigma_level, "high");
  assert.equal(list.indicators[0].origin.line, 8);
  assert.deepEqual(list.errors, []);
});

test("Sigma: a rule without indicator values loads nothing, with a warning", () => {
  const text =
    "title: t\nlogsource:\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\\\cmd.exe'\n  condition: sel\n";
  const list = parseIndicators(text, { name: "t.yml" });
  assert.equal(list.indicators.length, 0);
  assert.equal(list.warnings.length, 1);
});

test("a huge file of garbage gives a bounded error list", () => {
  const text = "garbage line\n".repeat(5000);
  const list = parseIndicators(text, { name: "g" });
  assert.equal(list.errors.length, 1001);
  assert.match(list.errors[1000].message, /4000 more errors/);
});

test("the format can be forced", () => {
  const list = parseIndicators("type,value\n", { name: "f", format: "text" });
  assert.equal(list.format, "text");
  assert.equal(list.errors.length, 1);
});

test("loadIndicatorFile: UTF-8, UTF-16LE with BOM, default name, unreadable file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quarry-intel-"));
  try {
    const utf8 = join(dir, "list.txt");
    writeFileSync(utf8, "evil[.]example\n");
    const a = await loadIndicatorFile(utf8);
    assert.equal(a.name, "list.txt");
    assert.deepEqual(a.indicators[0].origin, { file: utf8, line: 1 });
    const utf16 = join(dir, "list16.txt");
    writeFileSync(
      utf16,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("a.example\r\nb.example\r\n", "utf16le")]),
    );
    const b = await loadIndicatorFile(utf16, { name: "named", source: "Team" });
    assert.deepEqual(summary(b), ["domain a.example", "domain b.example"]);
    assert.equal(b.name, "named");
    assert.equal(b.indicators[0].source, "Team");
    await assert.rejects(loadIndicatorFile(join(dir, "missing.txt")), (e: Error) => {
      assert.equal(e.name, "QuarryError");
      assert.match(e.message, /cannot read IOC list .*ENOENT/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("arbitrary input never throws, in any format (property)", () => {
  const pieces = fc.constantFrom(
    "[",
    "]",
    "'",
    '"',
    ",",
    ";",
    "\n",
    "\r\n",
    "#",
    "type,value\n",
    "title: x\nlogsource:\ndetection:\n  s:\n    Hashes: ",
    '{"type":"bundle","objects":[{"type":"indicator","id":"i","pattern":"',
    "[domain-name:value = '",
    " AND ",
    " OR ",
    "hxxp://",
    "[.]",
    "::",
    "/24",
    "1.2.3.4",
    "a".repeat(32),
    "\ufeff",
    "\u0000",
  );
  const text = fc.array(fc.oneof(pieces, fc.string()), { maxLength: 40 }).map((parts) => parts.join(""));
  fc.assert(
    fc.property(text, fc.constantFrom(undefined, "text", "csv", "stix", "sigma" as const), (t, format) => {
      const list = parseIndicators(t, { name: "p", ...(format ? { format } : {}) });
      assert.ok(Array.isArray(list.indicators) && Array.isArray(list.errors));
      for (const i of list.indicators) assert.equal(typeof i.value, "string");
    }),
    { numRuns: 500 },
  );
});
