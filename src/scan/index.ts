/**
 * `quarry scan`: YARA-X and hash sweeps of disks and collections. See docs/scan.md.
 *
 * Entry points: `runScan` (walk + worker pool + reordered records), rule sets (`expandRulePaths`,
 * `assignNamespaces`, `compileRuleFiles`, `parseDefine`), packs (`resolvePack`), hash indicators
 * (`loadHashIndicators`), output formatting, and the typed YARA-X wrapper (`loadYaraX`).
 */
export type { CompiledGlob } from "./glob.js";
export { compileGlob } from "./glob.js";
export type { FileHashes } from "./hash.js";
export { hashBytes } from "./hash.js";
export type { HashIndicators, IndicatorHit } from "./indicators.js";
export { indexHashIndicators, loadHashIndicators } from "./indicators.js";
export type { ScanFormat } from "./output.js";
export { CSV_COLUMNS, csvHeader, recordCsvRows, recordJson, recordTable, SCAN_FORMATS } from "./output.js";
export type { PackContent } from "./packs.js";
export { bundledPacksDir, DEFAULT_PACK, PackError, resolvePack } from "./packs.js";
export type { YaraFinding, YaraStringHit } from "./protocol.js";
export type { CompiledRuleSet, RuleFile, RuleFileMessage } from "./rules.js";
export {
  assignNamespaces,
  compileRuleFiles,
  expandRulePaths,
  formatRuleFileMessage,
  parseDefine,
  RuleInputError,
} from "./rules.js";
export type { ScanIssue, ScanOptions, ScanProgress, ScanRecord, ScanSummary } from "./sweep.js";
export { DEFAULT_MAX_SIZE, defaultThreads, runScan } from "./sweep.js";
export type { WalkEntry, WalkIssue } from "./walk.js";
export { walkInputs } from "./walk.js";
export type { YaraDefineValue, YaraEngine, YaraMessage, YaraRuleMatch, YaraRules } from "./yara.js";
export {
  deserializeRules,
  ENGINE_ENV,
  loadYaraX,
  PINNED_BINDING_VERSION,
  YaraCompileError,
  YaraUnavailableError,
} from "./yara.js";
