/**
 * The 3CX pack's files: manifest schema, rule format (detection-rules TOML), severities, IOC lists and
 * their citations, agreement with the simulator's facts, and the published hunts' parse errors.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ecsSchema } from "../../src/schema/index.js";
import { simulateLines } from "../../src/simulate/index.js";
import {
  D3DCOMPILER_SHA256,
  ICON_C2_URLS,
  TROJANISED_BUILDS,
  UPDATE_AGENT_SHA256,
} from "../../src/simulate/threat.js";
import {
  type Engines,
  loadEngines,
  PACK_DIR,
  readCsvRows,
  readManifest,
  readPackIocs,
  readPackRules,
  SEVERITY_RANK,
} from "./harness.js";
import { PUBLISHED_HUNTS } from "./published-hunts.js";

const rules = readPackRules();
const byFile = new Map(rules.map((r) => [r.file, r]));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RISK: Readonly<Record<string, number>> = { low: 21, medium: 47, high: 73, critical: 99 };
const SOURCE_TAG = /^(EL|EL-YARA|VOL|SIGMA|SOPH|SB|ICO|CN2|PW|K): /;

test("pack.toml has the manifest schema the rules loader reads", () => {
  const m = readManifest();
  assert.equal(m.name, "3cx");
  assert.match(m.version, /^\d+\.\d+\.\d+$/);
  assert.ok(m.description.length > 20);
  assert.equal(m.iocs.length, 3);
  for (const ioc of m.iocs) {
    assert.ok(existsSync(join(PACK_DIR, ioc.file)), ioc.file);
    assert.match(ioc.rule_id, UUID);
    assert.ok(ioc.name && ioc.description);
    assert.ok(["high", "critical"].includes(ioc.severity), `${ioc.file}: IOC lists are known-bad indicators`);
    assert.equal(ioc.risk_score, RISK[ioc.severity]);
  }
  assert.deepEqual(
    m.yara.map((y) => y.file),
    ["yara/suddenicon.yar"],
  );
  const memory = rules.find((r) => r.file === "memory_threat_alert_on_3cx_process.toml")!;
  assert.deepEqual(m.protected.rule_ids, [memory.ruleId]);
  assert.match(m.protected.reason, /never adding exceptions/);
  assert.equal(m.constants.rc4_key, "3jB(2bsG#@c7");
  assert.equal(
    m.constants.ico_aes_key_hex,
    "21A1ACE1E663BA45864DF457B209181EBD90101B4A512840387CD210E58FA3F1",
  );
  assert.equal(m.constants.ico_aes_nonce_hex, "3B8A08ED0F9E08CA572109EF");
  const ids = [...rules.map((r) => r.ruleId), ...m.iocs.map((i) => i.rule_id)];
  assert.equal(new Set(ids).size, ids.length, "rule ids are unique");
});

test("every rule is detection-rules TOML with metadata, fields and ATT&CK mappings", () => {
  assert.equal(rules.length, 15);
  for (const r of rules) {
    const meta = r.doc.metadata as Record<string, unknown>;
    const rule = r.doc.rule as Record<string, unknown>;
    const where = r.file;
    assert.match(String(meta.creation_date), /^\d{4}\/\d{2}\/\d{2}$/, where);
    assert.match(String(meta.updated_date), /^\d{4}\/\d{2}\/\d{2}$/, where);
    assert.equal(meta.maturity, "production", where);
    for (const key of [
      "author",
      "description",
      "from",
      "index",
      "language",
      "name",
      "note",
      "references",
      "risk_score",
      "rule_id",
      "severity",
      "tags",
      "type",
      "query",
    ])
      assert.ok(rule[key] !== undefined, `${where}: [rule] ${key}`);
    assert.ok(
      Array.isArray(rule.author) &&
        Array.isArray(rule.index) &&
        Array.isArray(rule.tags) &&
        Array.isArray(rule.references),
      where,
    );
    assert.match(r.ruleId, UUID, where);
    assert.equal(r.riskScore, RISK[r.severity], `${where}: risk score follows severity`);
    assert.equal(r.type, r.language === "eql" ? "eql" : "query", where);
    assert.match(String(rule.note), /^## Triage and analysis/, where);
    const threat = rule.threat as Record<string, unknown>[];
    assert.ok(Array.isArray(threat) && threat.length > 0, `${where}: ATT&CK mapping`);
    for (const t of threat) {
      assert.equal(t.framework, "MITRE ATT&CK", where);
      const tactic = t.tactic as Record<string, string>;
      assert.match(tactic.id, /^TA\d{4}$/, where);
      assert.equal(tactic.reference, `https://attack.mitre.org/tactics/${tactic.id}/`, where);
      for (const tech of t.technique as Record<string, unknown>[]) {
        const id = String(tech.id);
        assert.match(id, /^T\d{4}$/, where);
        assert.equal(tech.reference, `https://attack.mitre.org/techniques/${id}/`, where);
        for (const sub of (tech.subtechnique as Record<string, string>[] | undefined) ?? []) {
          assert.ok(sub.id.startsWith(`${id}.`), `${where}: ${sub.id} under ${id}`);
          assert.equal(sub.reference, `https://attack.mitre.org/techniques/${id}/${sub.id.slice(6)}/`, where);
        }
      }
    }
  }
  const supply = (byFile.get("hunt2_backdoored_ffmpeg_dll_loaded.toml")!.doc.rule as Record<string, unknown>)
    .threat as Record<string, unknown>[];
  assert.ok(
    supply.some((t) => (t.technique as Record<string, unknown>[]).some((x) => x.id === "T1195")),
    "supply-chain mapping",
  );
});

test("severities mean something: profiling low, second-signal medium, known-bad and chains high or critical", () => {
  const sev = (file: string) => byFile.get(file)!.severity;
  assert.equal(sev("hunt3_3cx_signed_process_profile.toml"), "low");
  for (const f of [
    "hunt1_3cx_process_resolves_raw_githubusercontent.toml",
    "hunt4_3cx_signed_network_raw_githubusercontent.toml",
    "hunt5_3cx_desktop_app_files_written.toml",
    "hunt7_untrusted_dll_sideloaded_by_3cx.toml",
    "suspicious_child_of_3cx_desktop_app.toml",
  ])
    assert.equal(sev(f), "medium", f);
  for (const f of [
    "hunt2_backdoored_ffmpeg_dll_loaded.toml",
    "hunt6_3cx_ffmpeg_then_raw_githubusercontent_sequence.toml",
    "c2_domain_lookup_or_connection.toml",
    "iconstorages_ico_download.toml",
    "update_exe_pulls_compromised_release.toml",
    "macos_updateagent_execution.toml",
    "macos_updateagent_chain.toml",
    "macos_updateagent_post_to_sbmsa.toml",
    "memory_threat_alert_on_3cx_process.toml",
  ])
    assert.ok(SEVERITY_RANK[sev(f)] >= SEVERITY_RANK.high, f);
});

test("IOC lists: header, a label and a cited source on every row", () => {
  for (const file of ["iocs/domains.csv", "iocs/urls.csv", "iocs/hashes.csv"]) {
    const rows = readCsvRows(file);
    assert.ok(rows.length > 0, file);
    for (const row of rows) {
      assert.deepEqual(
        Object.keys(row),
        ["type", "value", "label", "source", "version", "os", "file_name", "role", "observed"],
        file,
      );
      assert.ok(row.label.length > 5, `${file}: ${row.value} has a label`);
      for (const part of row.source.split("; "))
        assert.match(part, SOURCE_TAG, `${file}: ${row.value} cites a FACTS source tag`);
      assert.ok(row.role, `${file}: ${row.value} has a role`);
    }
  }
  for (const ioc of readPackIocs()) {
    assert.deepEqual(ioc.list.errors, [], `${ioc.name}: no malformed rows`);
    assert.deepEqual(ioc.list.warnings, [], `${ioc.name}: every row is a matchable type`);
  }
});

test("domain list: Elastic's 21 (8 marked observed) plus the others the sources name", () => {
  const rows = readCsvRows("iocs/domains.csv");
  const elastic = rows.filter((r) => r.source.startsWith("EL: "));
  assert.equal(elastic.length, 21);
  assert.deepEqual(
    elastic
      .filter((r) => r.observed === "yes")
      .map((r) => r.value)
      .sort(),
    [
      "azuredeploystore.com",
      "msedgepackageinfo.com",
      "msstorageboxes.com",
      "officeaddons.com",
      "officestoragebox.com",
      "sourceslabs.com",
      "visualstudiofactory.com",
      "zacharryblogs.com",
    ],
  );
  const values = new Set(rows.map((r) => r.value));
  for (const d of [
    "msedgeupdate.net",
    "msboxonline.com",
    "www.azuredeploystore.com",
    "www.journalide.org",
    "sbmsa.wiki",
  ])
    assert.ok(values.has(d), d);
  // Every C2 host decoded from the icons is listed (icon0's is the 3cx.com decoy).
  for (const url of ICON_C2_URLS.slice(1)) assert.ok(values.has(new URL(url).hostname), url);
});

test("URL list holds the IconStorages staging folder; hash list covers every role with version, OS and file name", () => {
  const urls = readCsvRows("iocs/urls.csv").map((r) => r.value);
  assert.ok(urls.includes("https://raw.githubusercontent.com/IconStorages/images/main/"));
  const hashes = readCsvRows("iocs/hashes.csv");
  const roles = new Set(hashes.map((r) => r.role));
  for (const role of [
    "installer",
    "client",
    "ffmpeg.dll",
    "d3dcompiler_47.dll",
    "decrypted-stage",
    "inner-dll",
    "stealer",
    "libffmpeg.dylib",
    "UpdateAgent",
    "ico-dead-drop",
  ])
    assert.ok(roles.has(role), role);
  for (const r of hashes.filter((h) => h.role === "installer" || h.role === "client")) {
    if (r.file_name === "3CXDesktopApp.exe" || r.file_name.endsWith(".msi") || r.file_name.endsWith(".dmg")) {
      assert.ok(r.version, `${r.value}: version`);
      assert.ok(r.os === "windows" || r.os === "macos", `${r.value}: os`);
    }
  }
  for (const r of hashes)
    assert.match(
      r.value,
      r.type === "md5" ? /^[0-9a-f]{32}$/ : r.type === "sha1" ? /^[0-9a-f]{40}$/ : /^[0-9a-f]{64}$/,
    );
  // The simulator's published hashes are all in the list, each with the right OS and role.
  const byValue = new Map(hashes.map((h) => [h.value, h]));
  for (const b of TROJANISED_BUILDS) {
    assert.equal(byValue.get(b.sha256)?.role, "installer", b.fileName);
    assert.equal(byValue.get(b.sha256)?.os, b.os, b.fileName);
    assert.equal(byValue.get(b.sha256)?.version, b.version, b.fileName);
    assert.equal(byValue.get(b.clientSha256)?.role, "client", b.fileName);
    assert.ok(
      ["ffmpeg.dll", "libffmpeg.dylib"].includes(byValue.get(b.librarySha256)?.role ?? ""),
      b.librarySha256,
    );
  }
  assert.equal(byValue.get(D3DCOMPILER_SHA256)?.role, "d3dcompiler_47.dll");
  assert.equal(byValue.get(UPDATE_AGENT_SHA256)?.role, "UpdateAgent");
});

test("the C2 rule names exactly the domain list's C2 and exfiltration domains", () => {
  const rule = byFile.get("c2_domain_lookup_or_connection.toml")!;
  const listed = new Set(
    readCsvRows("iocs/domains.csv")
      .filter((r) => (r.role === "c2" || r.role === "exfiltration") && !r.value.startsWith("www."))
      .map((r) => r.value),
  );
  for (const field of ["dns.question.name", "url.domain", "destination.domain"]) {
    const block = rule.query.split(`${field} : (`)[1].split(")")[0];
    const strings = [...block.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    const exact = new Set(strings.filter((x) => !x.startsWith("*.")));
    const wild = new Set(strings.filter((x) => x.startsWith("*.")).map((x) => x.slice(2)));
    assert.deepEqual([...exact].sort(), [...listed].sort(), field);
    assert.deepEqual([...wild].sort(), [...listed].sort(), `${field}: subdomains`);
  }
});

test("benign simulated files never carry a published hash", () => {
  const known = new Set(readCsvRows("iocs/hashes.csv").map((r) => r.value));
  const hex = /"(?:md5|sha1|sha256)":"([0-9a-f]+)"/g;
  let checked = 0;
  for (const line of simulateLines({ seed: 5, hosts: 30, days: 2, infected: 0, clean3cx: 0.5 })) {
    for (const m of line.matchAll(hex)) {
      checked++;
      assert.ok(!known.has(m[1]), `benign event carries a published hash: ${line.slice(0, 200)}`);
    }
  }
  assert.ok(checked > 1000);
});

// ---- published hunts ----

let engines: Engines | undefined;
const getEngines = async () => (engines ??= await loadEngines());

test("published hunts: valid ones parse, broken ones are rejected with precise errors", async (t) => {
  const e = await getEngines();
  if (!e.parseEql) return t.skip("EQL parser not built yet (src/eql/parser.ts)");
  const parseEql = e.parseEql;
  const diagnostic = (text: string) => {
    try {
      parseEql(text);
    } catch (error) {
      return (
        error as {
          diagnostic?: {
            code: string;
            title: string;
            labels?: { span: { start: number; end: number } }[];
            help?: string;
          };
        }
      ).diagnostic;
    }
    return undefined;
  };
  for (const h of PUBLISHED_HUNTS.filter((x) => x.language === "eql")) {
    const d = diagnostic(h.text);
    if (h.valid) assert.equal(d, undefined, `hunt ${h.hunt} is valid EQL as published`);
    else assert.ok(d, `hunt ${h.hunt} must be rejected`);
  }
  const h4 = PUBLISHED_HUNTS.find((h) => h.hunt === 4)!;
  const d4 = diagnostic(h4.text)!;
  assert.match(d4.title, /typographic quote/i);
  assert.match(`${d4.title} ${d4.help ?? ""}`, /"/);
  assert.equal(d4.labels?.[0]?.span.start, h4.text.indexOf("\u201c"), "points at the opening curly quote");

  const h5 = PUBLISHED_HUNTS.find((h) => h.hunt === 5)!;
  const d5 = diagnostic(h5.text)!;
  assert.match(d5.title, /unbalanced parenthes|never closed|expected `?\)`?/i);
  const unclosed = h5.text.indexOf('(host.os.type == "macos"');
  assert.ok(
    d5.labels?.some((l) => l.span.start === unclosed),
    "names the `(` that is never closed",
  );

  const h6 = PUBLISHED_HUNTS.find((h) => h.hunt === 6)!;
  const d6 = diagnostic(h6.text)!;
  assert.match(d6.title, /list .*parenthes/i);
  assert.ok(
    d6.labels?.some((l) => h6.text.slice(l.span.start, l.span.end).includes("dll.hash.sha256")),
    "points at the field with the list",
  );
});

test("published KQL hunts parse", async (t) => {
  const e = await getEngines();
  if (!e.parseKql) return t.skip("KQL parser not built yet (src/kql/index.ts)");
  for (const h of PUBLISHED_HUNTS.filter((x) => x.language === "kuery"))
    assert.doesNotThrow(() => e.parseKql!(h.text), `hunt ${h.hunt}`);
});

test("the pack ships each published hunt, identical where it was valid", () => {
  for (const h of PUBLISHED_HUNTS) {
    const rule = byFile.get(h.ruleFile);
    assert.ok(rule, h.ruleFile);
    assert.equal(rule.language, h.language);
    const squash = (s: string) => s.replace(/\s+/g, " ").trim();
    if (h.hunt === 1 || h.hunt === 2 || h.hunt === 7) assert.equal(squash(rule.query), squash(h.text));
    else assert.notEqual(squash(rule.query), squash(h.text));
  }
  const h5 = byFile.get("hunt5_3cx_desktop_app_files_written.toml")!.query;
  assert.ok(
    !h5.includes("C3XDesktopApp") && h5.includes("\\\\3CXDesktopApp\\\\app\\\\"),
    "hunt 5: folder name fixed",
  );
  assert.ok(
    h5.includes('"*/Library/Application Support/3CX Desktop App/*"'),
    "hunt 5: macOS path ends in a wildcard",
  );
  assert.ok(
    !byFile.get("hunt4_3cx_signed_network_raw_githubusercontent.toml")!.query.includes("\u201c"),
    "hunt 4: straight quotes",
  );
});

test("every EQL rule verifies against ECS, every field known", async (t) => {
  const e = await getEngines();
  if (!e.parseEql || !e.verifyEql) return t.skip("EQL parser/verifier not built yet");
  const schema = ecsSchema();
  for (const r of rules.filter((x) => x.language === "eql"))
    assert.doesNotThrow(
      () => e.verifyEql!(e.parseEql!(r.query), { schema, strictFields: true, source: r.query }),
      r.file,
    );
});

test("every pack rule compiles with the engines that exist", async () => {
  const e = await getEngines();
  let compiled = 0;
  for (const r of rules) {
    const compile = r.language === "eql" ? e.eql : e.kql;
    if (!compile) {
      // Parse at least, when only the parser exists.
      if (r.language === "eql" && e.parseEql) assert.doesNotThrow(() => e.parseEql!(r.query), r.file);
      continue;
    }
    const q = compile(r.query);
    assert.equal(q.shape, r.query.trimStart().startsWith("sequence") ? "sequence" : "event", r.file);
    compiled++;
  }
  if (!e.eql || !e.kql)
    process.stderr.write(
      `# pack: compiled ${compiled} rules; not built yet: ${[!e.eql && "compileEql", !e.kql && "compileKql"].filter(Boolean).join(", ")}\n`,
    );
});
