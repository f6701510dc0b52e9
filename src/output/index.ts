/** Alert outputs for `quarry hunt`: table, ndjson, json, csv (Timesketch) and a self-contained HTML report. */
export { CSV_COLUMNS, csvCell, csvChunks } from "./csv.js";
export { escapeHtml, renderHtml } from "./html.js";
export {
  type HostSummary,
  type HuntReport,
  type InputSummary,
  jsonChunks,
  makeReport,
  NO_HOST,
  ndjsonChunks,
  type RuleSummary,
  rulesBySeverity,
  summarizeHosts,
} from "./report.js";
export { renderTable, terminalSafe } from "./table.js";

import { csvChunks } from "./csv.js";
import { renderHtml } from "./html.js";
import { type HuntReport, jsonChunks, ndjsonChunks } from "./report.js";
import { renderTable } from "./table.js";

export type AlertFormat = "table" | "ndjson" | "json" | "csv" | "html";
export const ALERT_FORMATS: readonly AlertFormat[] = ["table", "ndjson", "json", "csv", "html"];

/** The report in one format, as chunks of text to write in order. */
export function* renderAlerts(report: HuntReport, format: AlertFormat): Generator<string> {
  switch (format) {
    case "table":
      yield renderTable(report);
      return;
    case "ndjson":
      yield* ndjsonChunks(report);
      return;
    case "json":
      yield* jsonChunks(report);
      return;
    case "csv":
      yield* csvChunks(report);
      return;
    case "html":
      yield renderHtml(report);
      return;
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}
