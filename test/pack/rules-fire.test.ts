/**
 * Every pack rule fires on the simulated events it is meant for and never on the look-alikes: evaluated
 * directly through the engines' CompiledQuery API (and src/intel's index for the IOC lists) over simulator
 * output held in memory, with the simulator's truth naming each event's role.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Simulation } from "../../src/simulate/index.js";
import {
  compileRule,
  type Hit,
  loadEngines,
  missingEngines,
  readPackIocs,
  readPackRules,
  runIocs,
  runQuery,
  SEVERITY_RANK,
  toRecords,
} from "./harness.js";

interface Expectation {
  /** Roles at least one hit must include. */
  readonly fires: readonly string[];
  /** Roles no hit may include. */
  readonly never: readonly string[];
}

const LOOKALIKES = [
  "lookalike:git-raw-github",
  "lookalike:lookalike-domain",
  "lookalike:other-app-library",
  "lookalike:manifest-other-software",
  "lookalike:memory-alert-other-software",
  "lookalike:clean-3cx-update",
  "lookalike:clean-3cx-installer-download",
];

const EXPECT: Readonly<Record<string, Expectation>> = {
  "hunt1_3cx_process_resolves_raw_githubusercontent.toml": { fires: ["ico-dns"], never: LOOKALIKES },
  "hunt2_backdoored_ffmpeg_dll_loaded.toml": {
    fires: ["ffmpeg-load"],
    never: [...LOOKALIKES, "lookalike:clean-3cx"],
  },
  "hunt3_3cx_signed_process_profile.toml": {
    fires: ["client-start", "ffmpeg-load", "lookalike:clean-3cx"],
    never: ["lookalike:git-raw-github", "lookalike:other-app-library"],
  },
  "hunt4_3cx_signed_network_raw_githubusercontent.toml": { fires: ["ico-dns"], never: LOOKALIKES },
  "hunt5_3cx_desktop_app_files_written.toml": {
    fires: ["manifest-written", "main-storage-written", "session-lock-written", "updateagent-written"],
    never: [...LOOKALIKES, "lookalike:clean-3cx"],
  },
  "hunt6_3cx_ffmpeg_then_raw_githubusercontent_sequence.toml": {
    fires: ["client-start", "ffmpeg-load", "ico-dns"],
    never: [...LOOKALIKES, "lookalike:clean-3cx"],
  },
  "hunt7_untrusted_dll_sideloaded_by_3cx.toml": {
    fires: ["ffmpeg-load"],
    never: [...LOOKALIKES, "lookalike:clean-3cx"],
  },
  "c2_domain_lookup_or_connection.toml": {
    fires: ["c2-dns", "c2-http", "sbmsa-dns", "sbmsa-http", "stealer-exfil-http"],
    never: [...LOOKALIKES, "lookalike:clean-3cx"],
  },
  "iconstorages_ico_download.toml": { fires: ["ico-http"], never: LOOKALIKES },
  "update_exe_pulls_compromised_release.toml": {
    fires: ["update-run"],
    never: ["lookalike:clean-3cx-update"],
  },
  "suspicious_child_of_3cx_desktop_app.toml": {
    fires: ["suspicious-child", "updateagent-shell"],
    never: [...LOOKALIKES, "lookalike:clean-3cx"],
  },
  "macos_updateagent_execution.toml": { fires: ["updateagent-exec"], never: LOOKALIKES },
  "macos_updateagent_chain.toml": {
    fires: ["updateagent-written", "updateagent-exec", "sbmsa-dns"],
    never: LOOKALIKES,
  },
  "macos_updateagent_post_to_sbmsa.toml": { fires: ["sbmsa-http"], never: LOOKALIKES },
  "memory_threat_alert_on_3cx_process.toml": {
    fires: ["memory-threat-alert"],
    never: ["lookalike:memory-alert-other-software"],
  },
};

const IOC_EXPECT: Readonly<Record<string, Expectation>> = {
  "iocs/domains.csv": {
    fires: ["c2-dns", "c2-http", "sbmsa-http"],
    never: [...LOOKALIKES, "lookalike:clean-3cx"],
  },
  "iocs/urls.csv": { fires: ["ico-http", "sbmsa-http"], never: [...LOOKALIKES, "lookalike:clean-3cx"] },
  "iocs/hashes.csv": {
    fires: [
      "installer-download",
      "client-start",
      "ffmpeg-load",
      "d3dcompiler-load",
      "libffmpeg-load",
      "updateagent-exec",
      "update-package-written",
    ],
    never: [...LOOKALIKES, "lookalike:clean-3cx", "lookalike:clean-3cx-installer-download"],
  },
};

/** A small fleet holding every variant three times, with look-alikes recorded in the truth. */
function dataset() {
  const simulation = new Simulation({
    seed: 2024,
    hosts: 48,
    days: 14,
    infected: 18,
    clean3cx: 0.5,
    activityRate: 30,
    recordLookalikes: true,
  });
  const events = toRecords(simulation.lines());
  return { events, truth: simulation.truth() };
}

function check(
  name: string,
  hits: readonly Hit[],
  expectation: Expectation,
  roles: Record<string, string>,
  present: Set<string>,
): void {
  const hitRoles = new Set<string>();
  for (const h of hits) for (const id of h.eventIds) if (roles[id]) hitRoles.add(roles[id]);
  for (const role of expectation.fires) {
    assert.ok(
      present.has(role),
      `dataset precondition: the simulation holds a "${role}" event (for ${name})`,
    );
    assert.ok(hitRoles.has(role), `${name} fires on "${role}" events`);
  }
  for (const role of expectation.never)
    assert.ok(!hitRoles.has(role), `${name} must not fire on "${role}" events`);
}

test("every rule and IOC list fires on its intended simulated events and not on the look-alikes", async (t) => {
  const rules = readPackRules();
  const engines = await loadEngines();
  const missing = missingEngines(rules, engines);
  if (missing.length > 0) return t.skip(`query engines not built yet: ${missing.join("; ")}`);
  const { events, truth } = dataset();
  const present = new Set(Object.values(truth.events));
  const compromised = new Set(
    Object.entries(truth.hosts)
      .filter(([, h]) => h.compromised)
      .map(([name]) => name),
  );
  const all: Hit[] = [];
  for (const rule of rules) {
    const expectation = EXPECT[rule.file];
    assert.ok(expectation, `an expectation for ${rule.file}`);
    const hits = runQuery(rule, compileRule(rule, engines), events);
    check(rule.file, hits, expectation, truth.events, present);
    all.push(...hits);
  }
  const files = ["iocs/domains.csv", "iocs/urls.csv", "iocs/hashes.csv"];
  const iocs = readPackIocs();
  for (const [i, ioc] of iocs.entries()) {
    const hits = runIocs([ioc], events);
    check(files[i], hits, IOC_EXPECT[files[i]], truth.events, present);
    all.push(...hits);
  }
  // Whatever the rule: a high or critical hit never involves a look-alike and lands on a compromised host.
  for (const h of all.filter((x) => SEVERITY_RANK[x.severity] >= SEVERITY_RANK.high)) {
    for (const id of h.eventIds)
      assert.ok(
        !truth.events[id]?.startsWith("lookalike:"),
        `${h.ruleId} (${h.severity}) hit look-alike event ${id} (${truth.events[id]})`,
      );
    assert.ok(
      compromised.has(h.host),
      `${h.ruleId} (${h.severity}) on host ${h.host}, which is not compromised`,
    );
  }
});
