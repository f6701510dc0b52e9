/** Event sources and decoding: everything between the user's input paths and the query engines. */
export {
  compileField,
  compileFieldTester,
  compileFirstValue,
  type FieldGetter,
  type FieldTester,
  type FirstValueGetter,
  firstValue,
  projectDocument,
} from "./field-access.js";
export { HeldEventCode, retainEvent } from "./held.js";
export { parseJsonLossless, stringifyJson } from "./json.js";
export {
  compareKeys,
  externalSort,
  makeKeyer,
  type OrderedConsumer,
  type OrderOptions,
  readInTimeOrder,
} from "./order.js";
export {
  DEFAULT_MAX_LINE_BYTES,
  detectMode,
  type EventOrigin,
  type EventStream,
  emptySummary,
  eventFromOrigin,
  eventOrigin,
  formatIssue,
  type InputIssue,
  type InputIssueKind,
  type LinePrefilter,
  plainEventRecord,
  type ReadOptions,
  type ReadSummary,
  readEvents,
  readSources,
} from "./reader.js";
export { expandInputs, globToRegExp, type InputSource } from "./sources.js";
export { compareTimestamps, formatTimestamp, parseTimestamp, type Timestamp } from "./timestamp.js";
export type { EventRecord, JsonObject, JsonValue, Provenance } from "./types.js";
