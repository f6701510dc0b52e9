/**
 * Suite `triage/iconstorages`: the 16 real attacker icons in content/iconstorages (the IconStorages/images
 * snapshot at b69c8e1c...) decode to exactly the URLs measured in content/derived/iconstorages_icons.csv.
 * Only rows whose `as_of_commit` is the snapshot's head count (older rows describe earlier versions of
 * icon0-2), and rows are matched to files by sha256, not by name. One case per CSV row, plus one that
 * every icon in the folder has a row.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { triageFile } from "../../../src/triage/index.js";
import type { CaseResult, SuiteReport } from "../harness.js";

const SNAPSHOT_HEAD = "b69c8e1c32b19f4101c2173556bd8eff60cc928d";

export async function run(shared: string): Promise<readonly SuiteReport[]> {
  const iconDir = join(shared, "content/iconstorages");
  const rows = parseCsv(readFileSync(join(shared, "content/derived/iconstorages_icons.csv"), "utf8")).filter(
    (row) => row.as_of_commit === SNAPSHOT_HEAD,
  );
  const bySha = new Map<string, string>();
  for (const name of readdirSync(iconDir).filter((n) => n.endsWith(".ico"))) {
    const path = join(iconDir, name);
    bySha.set(createHash("sha256").update(readFileSync(path)).digest("hex"), path);
  }

  const cases: CaseResult[] = [];
  for (const row of rows) {
    const name = `${row.path} ${row.sha256.slice(0, 12)}`;
    const path = bySha.get(row.sha256);
    if (!path) {
      cases.push({ name, status: "failed", reason: `no icon with sha256 ${row.sha256} in ${iconDir}` });
      continue;
    }
    const result = await triageFile(path);
    const finding = result.findings.find((f) => f.kind === "ico-dead-drop");
    const problems: string[] = [];
    if (result.error) problems.push(`error ${result.error.code}: ${result.error.message}`);
    if (finding?.kind !== "ico-dead-drop") {
      problems.push("no ico-dead-drop finding");
    } else {
      const expect = (what: string, actual: unknown, expected: unknown) => {
        if (String(actual) !== String(expected))
          problems.push(`${what}: got ${actual}, expected ${expected}`);
      };
      expect("url", finding.url, row.plaintext_url);
      expect("tagVerified", finding.tagVerified, true);
      expect("tail offset", finding.tailOffset, row.appended_offset);
      expect("tail length", finding.tailLength, row.appended_len);
      expect("prefix", finding.prefixHex, row.prefix4_hex);
      expect("tag", finding.tagHex, row.gcm_tag_hex);
      expect("ciphertext length", finding.ciphertextLength, row.ciphertext_len);
      expect("image size", finding.images[0]?.size, row.image_size);
      expect("findings", result.findings.length, 1);
    }
    cases.push(
      problems.length === 0
        ? { name, status: "passed" }
        : { name, status: "failed", reason: problems.join("; ") },
    );
  }
  const covered = new Set(rows.map((r) => r.sha256));
  const unlisted = [...bySha].filter(([sha]) => !covered.has(sha)).map(([, path]) => path);
  cases.push(
    unlisted.length === 0 && rows.length === 16
      ? { name: "every icon has a row (16)", status: "passed" }
      : {
          name: "every icon has a row (16)",
          status: "failed",
          reason: `${rows.length} head rows; icons without a row: ${unlisted.join(", ") || "none"}`,
        },
  );
  return [{ suite: "triage/iconstorages", cases }];
}

/** RFC 4180 CSV with a header row (quoted fields, doubled quotes); enough for our derived tables. */
function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || record.length > 0) records.push([...record, field]);
  const [header, ...body] = records;
  return body
    .filter((r) => r.length > 1)
    .map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}
