/**
 * `intel/upstream`: every file under content/iocs-upstream (third-party 3CX IOC lists in their published
 * formats) loads with the expected number of indicators per type and only the expected problems; then the
 * lists are matched together against events that a 3CX compromise would produce, and their look-alikes.
 *
 * What "correct" means per file was decided by reading each file (counts are facts about the files):
 * text and CSV lists load every row; rows of types Quarry does not match (e-mail, a `Description` row)
 * are warnings; files that are not IOC lists (Suricata rules, filename regexes, READMEs) yield no
 * indicators, only errors; Sigma rules yield the hashes and domains of their selections.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { JsonObject } from "../../../src/events/types.js";
import {
  buildIndicatorIndex,
  type IndicatorList,
  type IndicatorType,
  loadIndicatorFile,
  toThreatIntelDocuments,
} from "../../../src/intel/index.js";
import type { CaseResult, SuiteReport } from "../harness.js";

type Counts = Partial<Record<IndicatorType, number>>;

interface Expectation {
  readonly format: IndicatorList["format"];
  readonly counts: Counts;
  /** Exact number of errors, or "some" when the file is not an IOC list and every line is one. */
  readonly errors: number | "some";
  readonly warnings: number;
  /** Extra per-file checks; return a failure reason or undefined. */
  readonly check?: (list: IndicatorList) => string | undefined;
}

const SIGMA = "sigmahq/3CX-Supply-Chain";

const EXPECTED: Readonly<Record<string, Expectation>> = {
  "README.md": { format: "text", counts: {}, errors: "some", warnings: 0 },
  "volexity/iocs.csv": {
    format: "csv",
    counts: { domain: 23, sha256: 6, sha1: 6, md5: 6 },
    errors: 0,
    // The five `emailwhois` rows (registrant e-mail addresses).
    warnings: 5,
    check: (list) => {
      // Each `file` row holds sha256,sha1,md5 in one field: three indicators with one label and line.
      const byLine = new Map<number, Set<string>>();
      for (const i of list.indicators) {
        if (i.type === "domain") continue;
        const types = byLine.get(i.origin.line ?? 0) ?? new Set<string>();
        types.add(i.type);
        byLine.set(i.origin.line ?? 0, types);
      }
      const bad = [...byLine.entries()].filter(([, t]) => t.size !== 3);
      return byLine.size === 6 && bad.length === 0
        ? undefined
        : `hash rows not split into sha256/sha1/md5: ${bad.length}`;
    },
  },
  "volexity/github_summary.csv": {
    format: "csv",
    counts: { domain: 16 },
    errors: 0,
    // README.md and web.pack rows have no domain.
    warnings: 2,
    check: (list) =>
      list.indicators.every((i) => i.metadata.file?.endsWith(".ico") && i.metadata.creation)
        ? undefined
        : "icon file name and creation time not kept as metadata",
  },
  "volexity/suri.rules": { format: "text", counts: {}, errors: 2, warnings: 0 },
  "sophoslabs/3CX IoCs 2023-03.csv": {
    format: "csv",
    counts: { sha256: 8, url: 1, domain: 21 },
    errors: 0,
    // The `Description` row (a link to the report), not an indicator.
    warnings: 1,
    check: (list) => {
      const url = list.indicators.find((i) => i.type === "url");
      if (url?.value !== "raw.githubusercontent.com/IconStorages/images/main/")
        return `staging URL is ${url?.value}`;
      const win = list.indicators.filter((i) => i.metadata.os === "windows").length;
      const mac = list.indicators.filter((i) => i.metadata.os === "macos").length;
      return win === 5 && mac === 2 ? undefined : `os metadata: ${win} windows, ${mac} macos (want 5, 2)`;
    },
  },
  "signature-base/c2-iocs.3cx-excerpt.txt": {
    format: "text",
    counts: { domain: 29 },
    errors: 0,
    warnings: 0,
    check: (list) =>
      list.indicators.filter((i) => /UNC4736/.test(i.metadata.section ?? "")).length === 6
        ? undefined
        : "section comments not kept per block",
  },
  "signature-base/hash-iocs.3cx-excerpt.txt": {
    format: "text",
    counts: { sha256: 45, sha1: 2, md5: 8 },
    errors: 0,
    warnings: 0,
    check: (list) => (list.indicators.every((i) => i.label) ? undefined : "a hash lost its `;comment` label"),
  },
  // `regex;score` lines: file-name patterns, not indicators Quarry matches.
  "signature-base/filename-iocs.3cx-excerpt.txt": { format: "text", counts: {}, errors: 16, warnings: 0 },
  [`${SIGMA}/README.md`]: { format: "text", counts: {}, errors: "some", warnings: 0 },
  [`${SIGMA}/dns_query_win_malware_3cx_compromise.yml`]: {
    format: "sigma",
    counts: { domain: 22 },
    errors: 0,
    warnings: 0,
  },
  [`${SIGMA}/image_load_malware_3cx_compromise_susp_dll.yml`]: {
    format: "sigma",
    counts: { sha256: 4, sha1: 4, md5: 4 },
    errors: 0,
    warnings: 0,
  },
  [`${SIGMA}/net_connection_win_malware_3cx_compromise_beaconing_activity.yml`]: {
    format: "sigma",
    counts: { domain: 21 },
    errors: 0,
    warnings: 0,
  },
  [`${SIGMA}/proc_creation_win_malware_3cx_compromise_execution.yml`]: {
    format: "sigma",
    counts: { sha256: 8, sha1: 8, md5: 8 },
    errors: 0,
    warnings: 0,
  },
  // No IOC fields: process-image and command-line conditions only.
  [`${SIGMA}/proc_creation_win_malware_3cx_compromise_susp_children.yml`]: {
    format: "sigma",
    counts: {},
    errors: 0,
    warnings: 1,
  },
  [`${SIGMA}/proc_creation_win_malware_3cx_compromise_susp_update.yml`]: {
    format: "sigma",
    counts: {},
    errors: 0,
    warnings: 1,
  },
  [`${SIGMA}/proxy_malware_3cx_compromise_c2_beacon_activity.yml`]: {
    format: "sigma",
    counts: { domain: 21 },
    errors: 0,
    warnings: 0,
  },
  // `c-uri|contains|all` fragments are not indicators.
  [`${SIGMA}/proxy_malware_3cx_compromise_susp_ico_requests.yml`]: {
    format: "sigma",
    counts: {},
    errors: 0,
    warnings: 1,
  },
};

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
}

function countTypes(list: IndicatorList): Counts {
  const counts: Counts = {};
  for (const i of list.indicators) counts[i.type] = (counts[i.type] ?? 0) + 1;
  return counts;
}

function describeCounts(counts: Counts): string {
  const parts = Object.entries(counts).map(([t, n]) => `${t} ${n}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}

function judge(list: IndicatorList, want: Expectation): string | undefined {
  const problems: string[] = [];
  if (list.format !== want.format) problems.push(`read as ${list.format}, want ${want.format}`);
  const got = countTypes(list);
  if (describeCounts(got) !== describeCounts(sortedLike(want.counts, got))) {
    problems.push(`indicators: ${describeCounts(got)}; want ${describeCounts(want.counts)}`);
  }
  if (want.errors === "some") {
    if (list.errors.length === 0) problems.push("no errors reported for a file that is not an IOC list");
  } else if (list.errors.length !== want.errors) {
    problems.push(
      `${list.errors.length} errors, want ${want.errors}: ${list.errors
        .slice(0, 3)
        .map((e) => `${e.line}: ${e.message}`)
        .join("; ")}`,
    );
  }
  if (list.warnings.length !== want.warnings) {
    problems.push(
      `${list.warnings.length} warnings, want ${want.warnings}: ${list.warnings
        .slice(0, 3)
        .map((e) => `${e.line}: ${e.message}`)
        .join("; ")}`,
    );
  }
  const extra = want.check?.(list);
  if (extra) problems.push(extra);
  return problems.length > 0 ? problems.join(" | ") : undefined;
}

/** `want` in the key order of `got` (then the rest), so the two descriptions compare as strings. */
function sortedLike(want: Counts, got: Counts): Counts {
  const out: Counts = {};
  for (const k of Object.keys(got) as IndicatorType[]) if (want[k] !== undefined) out[k] = want[k];
  for (const k of Object.keys(want) as IndicatorType[]) if (out[k] === undefined) out[k] = want[k];
  return out;
}

export async function run(shared: string): Promise<readonly SuiteReport[]> {
  const root = join(shared, "content/iocs-upstream");
  const cases: CaseResult[] = [];
  const lists: IndicatorList[] = [];
  const table: string[] = [];
  for (const path of walk(root)) {
    const name = relative(root, path);
    let list: IndicatorList;
    try {
      list = await loadIndicatorFile(path, { name });
    } catch (error) {
      cases.push({ name, status: "failed", reason: `threw: ${String(error)}` });
      continue;
    }
    lists.push(list);
    table.push(
      `  ${name}: ${list.format}, ${list.indicators.length} indicators (${describeCounts(countTypes(list))}), ${list.errors.length} errors, ${list.warnings.length} warnings`,
    );
    const want = EXPECTED[name];
    if (!want) {
      cases.push({ name, status: "failed", reason: "new file: decide what loading it correctly means" });
      continue;
    }
    const reason = judge(list, want);
    cases.push(reason ? { name, status: "failed", reason } : { name, status: "passed" });
  }
  for (const name of Object.keys(EXPECTED)) {
    if (!cases.some((c) => c.name === name)) cases.push({ name, status: "failed", reason: "file missing" });
  }
  console.log(`intel/upstream: indicators loaded per file\n${table.join("\n")}`);
  return [
    { suite: "intel/upstream", cases },
    { suite: "intel/upstream-matching", cases: matchingCases(lists) },
  ];
}

/** Events a 3CX compromise produces (and look-alikes), matched against all upstream lists at once. */
function matchingCases(lists: readonly IndicatorList[]): CaseResult[] {
  const index = buildIndicatorIndex(lists);
  const listsMatching = (doc: JsonObject): string[] => [
    ...new Set(index.matchEvent(doc).map((m) => m.indicator.list)),
  ];
  const cases: CaseResult[] = [];
  const expect = (name: string, doc: JsonObject, lists: number): void => {
    const got = listsMatching(doc);
    const ok = got.length === lists;
    cases.push(
      ok
        ? { name, status: "passed" }
        : {
            name,
            status: "failed",
            reason: `matched by ${got.length} lists, want ${lists} (${got.join(", ")})`,
          },
    );
  };
  // The C2 domain is in both Volexity lists, Sophos', signature-base's and three Sigma rules.
  expect("C2 subdomain in a DNS query", { dns: { question: { name: "www.msstorageazure.com." } } }, 7);
  expect("C2 look-alike prefix", { dns: { question: { name: "notakamaicontainer.com" } } }, 0);
  expect(
    "C2 name as a label of another domain",
    { dns: { question: { name: "akamaicontainer.com.example.net" } } },
    0,
  );
  expect(
    "ICO download under the staging folder",
    { url: { full: "https://raw.githubusercontent.com/IconStorages/images/main/icon13.ico" } },
    1,
  );
  expect(
    "another repository on the same host",
    { url: { full: "https://raw.githubusercontent.com/IconStorages/other/main/icon13.ico" } },
    0,
  );
  // d3dcompiler_47.dll carrying the encrypted payload: its sha256 is in signature-base's, Sophos' and the
  // image-load Sigma rule's lists; its md5 only in the Sigma rule's.
  expect(
    "d3dcompiler_47.dll sha256 in a library-load event",
    { dll: { hash: { sha256: "11BE1803E2E307B647A8A7E02D128335C448FF741BF06BF52B332E0BBF423B03" } } },
    3,
  );
  expect("d3dcompiler_47.dll md5", { file: { hash: { md5: "82187ad3f0c6c225e2fba0c867280cc9" } } }, 1);
  expect("a clean process hash", { process: { hash: { sha256: "0".repeat(64) } } }, 0);
  // Every hash indicator presented as a threat-intel document carries the field threat_match maps to.
  const docs = lists.flatMap((l) => toThreatIntelDocuments(l, { timestamp: "2023-03-30T00:00:00Z" }));
  const hashDocs = docs.filter((d) => {
    const ti = (d.threat as JsonObject).indicator as JsonObject;
    return ti.type === "file" && typeof ti.file === "object";
  });
  const hashCount = lists.reduce(
    (n, l) =>
      n + l.indicators.filter((i) => i.type === "md5" || i.type === "sha1" || i.type === "sha256").length,
    0,
  );
  cases.push(
    hashDocs.length === hashCount && hashCount > 0
      ? { name: "threat-intel documents for every hash indicator", status: "passed" }
      : {
          name: "threat-intel documents for every hash indicator",
          status: "failed",
          reason: `${hashDocs.length} documents for ${hashCount} hash indicators`,
        },
  );
  return cases;
}
