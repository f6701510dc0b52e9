import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  Simulation,
  type SimulationTruth,
  simulate,
  simulateLines,
  VARIANTS,
  writeSimulatedFile,
} from "../../src/simulate/index.js";
import { Noise } from "../../src/simulate/noise.js";
import { Random } from "../../src/simulate/prng.js";
import { ICON_C2_URLS, TROJANISED_BUILDS } from "../../src/simulate/threat.js";
import { tempDir } from "../helpers/tmp.js";

const tmp = tempDir("quarry-sim-");
// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary paths of simulated documents
type Doc = Record<string, any>;

function run(options: ConstructorParameters<typeof Simulation>[0]): {
  lines: string[];
  docs: Doc[];
  truth: SimulationTruth;
} {
  const simulation = new Simulation(options);
  const lines = [...simulation.lines()];
  return { lines, docs: lines.map((l) => JSON.parse(l) as Doc), truth: simulation.truth() };
}

// One shared mid-size run: every variant twice, look-alikes recorded.
const base = run({
  seed: 99,
  hosts: 40,
  days: 14,
  infected: 12,
  clean3cx: 0.5,
  activityRate: 20,
  recordLookalikes: true,
});
const byId = new Map(base.docs.map((d) => [d.event.id as string, d]));
const rolesOf = (host: string) => {
  const out = new Set<string>();
  for (const [id, role] of Object.entries(base.truth.events))
    if (byId.get(id)?.host?.name === host) out.add(role);
  return out;
};

test("deterministic by seed: same options, same bytes; another seed, other bytes", async () => {
  const a = [...simulateLines({ seed: 7, hosts: 12, days: 3, infected: 3 })].join("\n");
  const b = [...simulateLines({ seed: 7, hosts: 12, days: 3, infected: 3 })].join("\n");
  const c = [...simulateLines({ seed: 8, hosts: 12, days: 3, infected: 3 })].join("\n");
  assert.equal(a, b);
  assert.notEqual(a, c);
  // The async iterable (chunks) carries exactly the same lines.
  let text = "";
  for await (const chunk of simulate({ seed: 7, hosts: 12, days: 3, infected: 3 })) text += chunk;
  assert.equal(text, `${a}\n`);
});

test("never uses Math.random", () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "../../src/simulate");
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".js")))
    assert.ok(!/Math\.random\s*\(/.test(readFileSync(join(dir, f), "utf8")), f);
});

test("valid JSON, time order, unique event ids, timestamps with milliseconds", () => {
  let last = "";
  const ids = new Set<string>();
  for (const d of base.docs) {
    const ts = d["@timestamp"] as string;
    assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(ts >= last, `time order: ${ts} after ${last}`);
    last = ts;
    assert.ok(!ids.has(d.event.id), "unique event.id");
    ids.add(d.event.id);
  }
  assert.equal(base.docs[0]["@timestamp"].slice(0, 10), "2023-03-15");
  assert.ok(base.docs.at(-1)!["@timestamp"] < "2023-03-29T00:00:00.000Z");
});

test("Elastic Defend field layout on endpoint events", () => {
  const kinds = new Map<string, Doc>();
  for (const d of base.docs)
    kinds.set(`${d.data_stream.dataset}|${d.event.action}|${d.host.os?.type ?? "proxy"}`, d);
  for (const [key, d] of kinds) {
    assert.ok(Array.isArray(d.event.category), `${key}: event.category is an array`);
    assert.ok(Array.isArray(d.event.type), `${key}: event.type is an array`);
    assert.equal(d.event.dataset, d.data_stream.dataset, key);
    if (d.data_stream.dataset.startsWith("endpoint.")) {
      assert.equal(d.agent.type, "endpoint", key);
      assert.ok(d.host.name && d.host.id && d.host.os.family, key);
      assert.ok(
        d.process.entity_id && d.process.executable && d.process.name && typeof d.process.pid === "number",
        key,
      );
      assert.equal(typeof d.process.code_signature.trusted, "boolean", key);
    }
  }
  const need = [
    "endpoint.events.process|start|windows",
    "endpoint.events.process|exec|macos",
    "endpoint.events.process|end|windows",
    "endpoint.events.library|load|windows",
    "endpoint.events.library|load|macos",
    "endpoint.events.network|lookup_result|windows",
    "endpoint.events.network|connection_attempted|macos",
    "endpoint.events.file|creation|windows",
    "endpoint.events.file|deletion|macos",
    "endpoint.alerts|start|windows",
    "zscaler_zia.web|allowed|proxy",
  ];
  for (const k of need) assert.ok(kinds.has(k), `an event of kind ${k}`);
  const start = kinds.get("endpoint.events.process|start|windows")!;
  assert.ok(
    start.process.parent.entity_id &&
      start.process.hash.sha256 &&
      start.process.args.length === start.process.args_count,
  );
  assert.match(start.process.pe.original_file_name, /\.(exe|EXE)$/);
  const lib = kinds.get("endpoint.events.library|load|windows")!;
  assert.ok(
    lib.dll.name &&
      lib.dll.path &&
      lib.dll.hash.sha256 &&
      typeof lib.dll.code_signature.trusted === "boolean",
  );
  const dns = kinds.get("endpoint.events.network|lookup_result|windows")!;
  assert.ok(dns.dns.question.name && Array.isArray(dns.dns.resolved_ip));
  const proxy = kinds.get("zscaler_zia.web|allowed|proxy")!;
  assert.ok(
    proxy.url.full &&
      proxy.url.domain &&
      proxy.url.path &&
      proxy.http.request.method &&
      proxy.user_agent.original,
  );
  // Parents precede children: every parent entity id seen in a start event was started (or is a system process) on that host.
});

test("truth: every variant, compromise flags, roles pointing at written events", () => {
  const hosts = Object.entries(base.truth.hosts);
  assert.equal(hosts.length, 40);
  for (const v of VARIANTS)
    assert.equal(
      hosts.filter(([, h]) => h.variant === v && h.compromised).length,
      2,
      `two compromised ${v} hosts`,
    );
  assert.ok(hosts.filter(([, h]) => h.variant === "clean-3cx").length >= 5);
  for (const [, h] of hosts) assert.equal(h.compromised, VARIANTS.includes(h.variant as never));
  for (const id of Object.keys(base.truth.events))
    assert.ok(byId.has(id), `truth names a written event ${id}`);
  assert.ok(Object.values(base.truth.events).some((r) => r.startsWith("lookalike:")));
});

test("infections follow the published chain and timeline, per variant", () => {
  for (const [host, h] of Object.entries(base.truth.hosts)) {
    if (!h.compromised) continue;
    const roles = rolesOf(host);
    const at = (role: string) =>
      Object.entries(base.truth.events)
        .filter(([id, r]) => r === role && byId.get(id)?.host?.name === host)
        .map(([id]) => byId.get(id)!);
    switch (h.variant) {
      case "windows-full":
      case "windows-update":
      case "unknown-dll": {
        for (const r of ["client-start", "ffmpeg-load", "d3dcompiler-load", "manifest-written"])
          assert.ok(roles.has(r), `${h.variant} ${host}: ${r}`);
        const manifest = at("manifest-written")[0];
        assert.match(manifest.file.path, /\\AppData\\Local\\Programs\\3CXDesktopApp\\app\\manifest$/);
        if (!roles.has("c2-http")) {
          // Defend in prevent mode stopped the payload: an alert (denied) and no beacon.
          const alerts = at("memory-threat-alert");
          assert.ok(
            alerts.length > 0 && alerts.every((a) => a.event.type.includes("denied")),
            `${host}: beacons unless prevented`,
          );
          const days =
            (Date.parse(alerts[0]["@timestamp"]) - Date.parse(manifest["@timestamp"])) / 86_400_000;
          assert.ok(
            days >= 7 && days < 9.5,
            `${host}: payload runs ${days.toFixed(2)} days after the manifest`,
          );
          continue;
        }
        const firstBeacon = at("c2-http")
          .map((d) => d["@timestamp"] as string)
          .sort()[0];
        const days = (Date.parse(firstBeacon) - Date.parse(manifest["@timestamp"])) / 86_400_000;
        assert.ok(
          days >= 7 && days < 9.5,
          `${host}: first beacon ${days.toFixed(2)} days after the manifest`,
        );
        const ico = at("ico-http")[0];
        assert.ok(ico, `${host}: icon fetched`);
        assert.match(
          ico.url.full,
          /^https:\/\/raw\.githubusercontent\.com\/IconStorages\/images\/main\/icon\d+\.ico$/,
        );
        const c2 = at("c2-http")[0];
        assert.ok(ICON_C2_URLS.includes(c2.url.full), `C2 URL decoded from an icon: ${c2.url.full}`);
        assert.equal(c2.http.request.method, "POST");
        if (h.variant === "windows-update") assert.ok(roles.has("update-run"));
        else assert.ok(roles.has("installer-download") && roles.has("installer-run"));
        const ffmpeg = at("ffmpeg-load")[0];
        if (h.variant === "unknown-dll") {
          assert.ok(
            !TROJANISED_BUILDS.some((b) => b.librarySha256 === ffmpeg.dll.hash.sha256),
            "unknown build",
          );
          assert.equal(ffmpeg.dll.code_signature.trusted, false);
        } else
          assert.ok(
            TROJANISED_BUILDS.some((b) => b.librarySha256 === ffmpeg.dll.hash.sha256),
            "published ffmpeg.dll hash",
          );
        break;
      }
      case "timer-pending":
        for (const r of ["installer-download", "client-start", "ffmpeg-load", "manifest-written"])
          assert.ok(roles.has(r), `${host}: ${r}`);
        for (const r of ["ico-dns", "c2-http", "memory-threat-alert"])
          assert.ok(!roles.has(r), `${host}: no ${r} before the timer expires`);
        break;
      case "installer-only": {
        assert.deepEqual([...roles].filter((r) => !r.startsWith("lookalike:")).sort(), [
          "installer-download",
          "installer-download-dns",
          "installer-download-http",
        ]);
        const file = at("installer-download")[0];
        assert.ok(
          TROJANISED_BUILDS.some((b) => b.sha256 === file.file.hash.sha256 && b.fileName === file.file.name),
        );
        break;
      }
      case "macos-full": {
        for (const r of [
          "installer-download",
          "client-start",
          "libffmpeg-load",
          "main-storage-written",
          "session-lock-written",
          "c2-http",
          "updateagent-written",
          "updateagent-exec",
          "sbmsa-http",
          "updateagent-deleted",
        ])
          assert.ok(roles.has(r), `${host}: ${r}`);
        const post = at("sbmsa-http")[0];
        assert.equal(post.url.full, "https://sbmsa.wiki/blog/_insert");
        assert.equal(post.http.request.method, "POST");
        const exec = at("updateagent-exec")[0];
        assert.equal(exec.process.code_signature.trusted, false);
        assert.match(exec.process.code_signature.signing_id, /^payload2-[0-9a-f]{40}$/);
        assert.equal(exec.process.parent.name, "sh");
        break;
      }
    }
  }
});

test("look-alikes are present: clean 3CX with signed DLLs, git from raw.githubusercontent.com, look-alike domains, other ffmpeg.dll, other manifest", () => {
  const roles = (what: string) =>
    Object.entries(base.truth.events)
      .filter(([, r]) => r === `lookalike:${what}`)
      .map(([id]) => byId.get(id)!);
  const clean = roles("clean-3cx");
  assert.ok(
    clean.some(
      (d) =>
        d.dll?.name === "ffmpeg.dll" &&
        d.dll.code_signature.subject_name === "3CX Ltd" &&
        d.dll.code_signature.trusted === true,
    ),
  );
  assert.ok(clean.some((d) => d.event.action === "start" && d.process.pe?.file_version === "18.12.425"));
  const git = roles("git-raw-github");
  assert.ok(
    git.some(
      (d) => d.dns?.question?.name === "raw.githubusercontent.com" && /^git|curl/.test(d.process.name),
    ),
  );
  assert.ok(
    git.some((d) => d.url?.domain === "raw.githubusercontent.com" && !d.url.path.includes("IconStorages")),
  );
  const domains = new Set(
    roles("lookalike-domain")
      .map((d) => d.dns?.question?.name ?? d.url?.domain)
      .filter(Boolean),
  );
  assert.ok(
    domains.has("notakamaicontainer.com") && domains.has("akamaicontainer.com.example.net"),
    [...domains].join(","),
  );
  assert.ok(
    roles("other-app-library").some((d) => d.dll.name === "ffmpeg.dll" && !d.process.name.startsWith("3CX")),
  );
  assert.ok(
    roles("manifest-other-software").some(
      (d) => d.file.name === "manifest" && !d.file.path.includes("3CXDesktopApp"),
    ),
  );
});

test("--events N gives exactly N events; --bytes SIZE stops at the first line reaching it", () => {
  const e = new Simulation({ seed: 3, hosts: 20, days: 14, infected: 6, events: 5000 });
  assert.equal([...e.lines()].length, 5000);
  const target = 40_000_000;
  const b = new Simulation({ seed: 3, hosts: 20, days: 14, infected: 6, bytes: target });
  let bytes = 0;
  let last = 0;
  for (const chunk of b.chunks()) {
    bytes += chunk.length;
    last = chunk.lastIndexOf(10, chunk.length - 2);
    last = chunk.length - last - 1;
  }
  assert.equal(bytes, b.bytes);
  assert.ok(bytes >= target && bytes - last < target, `${bytes} bytes for a ${target} budget`);
  // Budgeted runs still hold every variant's chain (the budget cuts only the window's last few percent).
  const truth = b.truth();
  assert.equal(Object.values(truth.hosts).filter((h) => h.compromised).length, 6);
  assert.deepEqual(b.warnings, []);
  // A budget below what the fleet's sessions need is reported.
  assert.match(
    new Simulation({ seed: 3, hosts: 20, days: 14, bytes: 1_000_000 }).warnings[0],
    /budget is smaller/,
  );
});

test("short windows: beaconing variants start before the window and still beacon inside it", () => {
  const { truth } = run({ seed: 4, hosts: 10, days: 2, infected: 6 });
  const roles = new Set(Object.values(truth.events));
  for (const r of ["c2-http", "ico-http", "ffmpeg-load", "libffmpeg-load"]) assert.ok(roles.has(r), r);
  for (const h of Object.values(truth.hosts))
    if (h.variant !== "none" && h.variant !== "clean-3cx") assert.ok(h.compromised, h.variant);
});

test("writeSimulatedFile writes gzip and the truth file", async () => {
  const path = join(tmp.dir, "sim.ndjson.gz");
  const truthPath = join(tmp.dir, "truth.json");
  const result = await writeSimulatedFile(path, {
    seed: 5,
    hosts: 8,
    days: 1,
    infected: 2,
    events: 2000,
    gzip: true,
    truth: truthPath,
  });
  assert.equal(result.events, 2000);
  const text = gunzipSync(readFileSync(path)).toString("utf8");
  assert.equal(text.split("\n").length, 2001);
  assert.equal(Buffer.byteLength(text), result.bytes);
  const truth = JSON.parse(readFileSync(truthPath, "utf8")) as SimulationTruth;
  assert.equal(Object.keys(truth.hosts).length, 8);
});

test("noise is off by default and, when asked for, yields each kind without touching chain events", () => {
  const clean = run({ seed: 6, hosts: 6, days: 1, infected: 2 });
  assert.ok(clean.lines.every((l) => !l.endsWith("\r")));
  const simulation = new Simulation({ seed: 6, hosts: 6, days: 1, infected: 2, noise: 0.2 });
  const lines = [...simulation.lines()];
  let malformed = 0;
  let dotted = 0;
  let crlf = 0;
  let epoch = 0;
  for (const l of lines) {
    if (l.endsWith("\r")) crlf++;
    let d: Doc;
    try {
      d = JSON.parse(l);
    } catch {
      malformed++;
      continue;
    }
    if ("process.name" in d) dotted++;
    if (typeof d["@timestamp"] === "number") epoch++;
  }
  assert.ok(malformed > 0 && dotted > 0 && crlf > 0 && epoch > 0, `${malformed} ${dotted} ${crlf} ${epoch}`);
  const truth = simulation.truth();
  const ids = new Set<string>();
  for (const l of lines) {
    const m = /"event":\{[^}]*"id":"([^"]+)"/.exec(l);
    if (m) ids.add(m[1]);
  }
  for (const id of Object.keys(truth.events)) assert.ok(ids.has(id), "chain events stay intact");
  // A big integer survives as text (a lossless reader keeps every digit).
  const noise = new Noise(1, new Random(1));
  assert.match(noise.rewrite(clean.lines[0], "bigint"), /"sequence":9007199254740994/);
  assert.match(noise.rewrite(clean.lines[0], "nanos"), /"@timestamp":"[^"]+\.\d{9}Z"/);
});

test("rejects bad options with clear errors", () => {
  assert.throws(() => new Simulation({ hosts: 0 }), /hosts must be an integer >= 1/);
  assert.throws(() => new Simulation({ hosts: 3, infected: 4 }), /infected \(4\) cannot exceed hosts \(3\)/);
  assert.throws(() => new Simulation({ days: -1 }), /days must be/);
  assert.throws(() => new Simulation({ noise: 2 }), /noise is a fraction/);
  assert.throws(() => new Simulation({ start: new Date("nope") }), /start is not a valid date/);
});

test("memory stays bounded by the fleet, not the output", () => {
  // Generate ~60 MB without keeping it; the heap must not grow with the output.
  const simulation = new Simulation({ seed: 8, hosts: 100, days: 14, infected: 6, bytes: 60_000_000 });
  let peak = 0;
  let n = 0;
  for (const chunk of simulation.chunks()) {
    n += chunk.length;
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  assert.ok(n >= 60_000_000);
  assert.ok(peak < 400 * 1024 * 1024, `peak heap ${(peak / 1e6).toFixed(0)} MB`);
});
