/**
 * Detection rules: loading detection-rules TOML, packs, exceptions; the one-pass hunt engine; alerts;
 * lint and example-based tests. See docs/rules.md.
 */
export {
  type Alert,
  buildAlert,
  buildReason,
  compareAlerts,
  intersectDocuments,
  type RuleHit,
} from "./alerts.js";
export {
  Hunt,
  type HuntOptions,
  HuntPass,
  type HuntResult,
  type IocRuleInput,
  NO_IOCS_REASON,
  type RuleReport,
  type RuleRunStatus,
  renderRuleDiagnostic,
} from "./engine.js";
export {
  compileExceptionLists,
  describeRefusal,
  type ExceptionEntry,
  type ExceptionFileResult,
  type ExceptionItem,
  type ExceptionList,
  type ExceptionLoadIssue,
  type ExceptionRefusal,
  loadExceptionFile,
  parseKibanaExceptions,
  parseTomlExceptions,
  planExceptions,
} from "./exceptions.js";
export { compileFilters, FilterError } from "./filters.js";
export {
  type HuntRun,
  huntOptionsFor,
  loadRuleSet,
  type RuleSet,
  type RuleSetRequest,
  runHunt,
} from "./hunt.js";
export { editDistance, type LintResult, lintRules, type RuleLint, suggestFields } from "./lint.js";
export { listTomlFiles, loadRuleFile, loadRules, parseRuleText, type RuleFileResult } from "./load.js";
export {
  bundledPacksDir,
  defaultIocSpec,
  type IocRuleSpec,
  iocRule,
  listBundledPacks,
  loadIocList,
  loadPack,
  type Pack,
  type PackIocList,
  PackNotFoundError,
} from "./pack.js";
export { exampleFiles, type RuleTestCase, type RuleTestResult, testRules } from "./rule-test.js";
export { lookbackMs, parseDuration, resolveDateMath } from "./time.js";
export {
  type AlertSeverity,
  type DetectionRule,
  formatRuleLoadError,
  type RuleLoadError,
  type RuleType,
  SEVERITIES,
  severityRank,
  type ThreatMapping,
} from "./types.js";
