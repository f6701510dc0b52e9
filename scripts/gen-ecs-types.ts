/**
 * Regenerates src/schema/ecs-types.json (field name -> Elasticsearch type, plus ignore_above where set)
 * from the ECS release's generated fields.csv. Run once per ECS release:
 *   node dist/scripts/gen-ecs-types.js ../shared/conformance/ecs/fields.csv
 * The build never reads ../shared; the JSON it writes is committed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { readCsv } from "../src/intel/csv.js";

const input = process.argv[2] ?? "../shared/conformance/ecs/fields.csv";
const [headerRecord, ...rows] = readCsv(readFileSync(input, "utf8")).records;
const header = headerRecord.fields;
const fieldCol = header.indexOf("Field");
const typeCol = header.indexOf("Type");
const versionCol = header.indexOf("ECS_Version");
const types: Record<string, string> = {};
let version = "";
for (const { fields: cells } of rows) {
  types[cells[fieldCol]] = cells[typeCol];
  version = cells[versionCol];
}
const sorted = Object.fromEntries(Object.entries(types).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(
  new URL("../../src/schema/ecs-types.json", import.meta.url),
  `${JSON.stringify({ ecs_version: version, fields: sorted }, null, 1)}\n`,
);
console.log(`wrote ${Object.keys(sorted).length} ECS ${version} field types`);
