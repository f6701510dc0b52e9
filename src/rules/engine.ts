/**
 * The hunt engine: every loaded rule compiled once, then one pass over the events. Each event is parsed
 * once (by the reader) and dispatched only to the rules whose guard it passes (see guard.ts): rules are
 * indexed by (field, lower-cased value) of a necessary condition of their query, so an event costs a few
 * map probes plus the rules that can actually match it.
 */
import { performance } from "node:perf_hooks";
import { isQuarryError, QuarryError, renderDiagnostic } from "../diagnostics/index.js";
import { type CompiledEql, compileEql, DEFAULT_MAX_PENDING_STATE, KeyCode } from "../eql/index.js";
import {
  compileField,
  compileFirstValue,
  type FieldGetter,
  type FirstValueGetter,
  projectDocument,
} from "../events/field-access.js";
import { stringifyJson } from "../events/json.js";
import { compareTimestamps, formatTimestamp, parseTimestamp, type Timestamp } from "../events/timestamp.js";
import type { EventRecord, JsonObject, JsonValue } from "../events/types.js";
import {
  buildIndicatorIndex,
  type IndicatorIndex,
  type IndicatorList,
  toThreatIntelDocuments,
} from "../intel/index.js";
import type { Indicator } from "../intel/types.js";
import { compileKql, compileKqlAst, parseKql } from "../kql/index.js";

import {
  type LinePrefilter,
  prefilterForEql,
  prefilterForKql,
  prefilterForLiterals,
  unionPrefilters,
} from "../prefilter/index.js";
import type { CompiledQuery, QueryRun } from "../query/index.js";
import type { Schema } from "../schema/index.js";
import { type Alert, buildAlert, compareAlerts, type RuleHit } from "./alerts.js";
import { chooseRouting, RuleIndex } from "./dispatch.js";
import {
  compileExceptionLists,
  type ExceptionList,
  type ExceptionRefusal,
  planExceptions,
} from "./exceptions.js";
import { compileFilters, FilterError } from "./filters.js";
import {
  eqlGuard,
  type GuardExpr,
  type GuardTerm,
  guardTerms,
  integerKey,
  kqlGuard,
  staticEstimate,
} from "./guard.js";
import { compileTextCheck, eqlTextNeed, FoldedValues, kqlTextNeed, type TextNeed } from "./literals.js";
import { lookbackMs, parseDuration, resolveDateMath } from "./time.js";
import type { DetectionRule } from "./types.js";

export interface IocRuleInput {
  readonly rule: DetectionRule;
  readonly list: IndicatorList;
}

export interface HuntOptions {
  readonly rules: readonly DetectionRule[];
  readonly iocs?: readonly IocRuleInput[];
  readonly exceptions?: readonly ExceptionList[];
  /** rule_id -> reason. */
  readonly protectedRules?: ReadonlyMap<string, string>;
  readonly forceExceptions?: boolean;
  readonly schema: Schema;
  /** The field events are read and ordered by. Default `@timestamp`. */
  readonly timestampField?: string;
  /** `--to`: "now" for date math. Default: the latest event time. */
  readonly now?: Timestamp;
  /** `--from`: anchors the replayed schedule. */
  readonly from?: Timestamp;
  /** Replay each rule's interval and lookback across the input's time span. */
  readonly schedule?: boolean;
  /** Time every rule on every event (otherwise one event in 64 is timed and scaled). */
  readonly profile?: boolean;
  /** Skip dispatch and sequence gating: every rule sees every event (slow; for checking both). */
  readonly exhaustive?: boolean;
  /** Literal pre-checks before each rule's evaluator (literals.ts); default on unless `exhaustive`. */
  readonly literalChecks?: boolean;
  /**
   * Run only one shard of the rules (a worker of a rule-sharded hunt, src/parallel): `owners[i]` is the
   * shard of report `i` (the rules in order, then the IOC lists, which share one index and so one shard).
   * The rules of other shards are reported not run.
   */
  readonly shard?: { readonly index: number; readonly owners: readonly number[] };
  /**
   * How the whole hunt orders its input, when this Hunt is one shard of it: every shard must read the
   * input exactly as the unsharded hunt would (time order and tiebreaker), whatever its own rules need.
   */
  readonly timeOrder?: { readonly needsTimeOrder: boolean; readonly tiebreakerField: string | undefined };
  /**
   * Cap on each rule's state: an EQL sequence's or sample's (pending sequences, missing-event trackers,
   * held sequences; a sample's join keys), a new_terms rule's term combinations, a threshold rule's
   * groups. Default DEFAULT_MAX_PENDING_STATE. A rule that exceeds it is stopped and reported
   * (RuleReport.stopped); the hunt goes on.
   */
  readonly maxPendingState?: number;
}

/** The reason given for the rules a shard leaves to the other shards. */
const OTHER_SHARD_REASON = "run by another shard";

export type RuleRunStatus = "ran" | "not_run";

export interface RuleReport {
  readonly rule: DetectionRule;
  status: RuleRunStatus;
  reason?: string;
  /** The query's diagnostic, when it did not compile. */
  diagnostic?: QuarryError;
  /** True when the rule could not be run because its query or filters are broken (not a type we skip). */
  broken: boolean;
  /**
   * True when the rule hit its state cap during the pass (EQL172, RULE221, RULE222): it stopped there,
   * `reason` and `diagnostic` say why, and the alerts it made until then are kept.
   */
  stopped?: boolean;
  /**
   * Events the rule skipped because one event alone passed a limit (EQL174: more join-key combinations
   * than a sequence or sample takes); `diagnostic` holds the first one's. The rule went on.
   */
  skippedEvents?: number;
  /** Why those events were skipped (the first one's diagnostic title). */
  skipReason?: string;
  alerts: number;
  ms: number;
  /** Hits dropped because `max_signals` was reached. */
  truncated: number;
  /** Events the rule saw after dispatch (for --profile). */
  evaluated: number;
}

export interface HuntResult {
  readonly alerts: Alert[];
  readonly rules: readonly RuleReport[];
  readonly refusals: readonly ExceptionRefusal[];
  /** The "now" the run used (--to or the latest event time). */
  readonly now: Timestamp | undefined;
  /** Earliest event time seen. */
  readonly start: Timestamp | undefined;
  readonly notes: readonly string[];
}

type Predicate = (doc: JsonObject) => boolean;

/** Everything about a rule that is fixed before the pass. */
interface CompiledRule {
  readonly index: number;
  readonly rule: DetectionRule;
  readonly report: RuleReport;
  /** Necessary conditions of the query, chosen from when the dispatch index is built. */
  readonly guard: GuardExpr | undefined;
  /** Filters and exceptions: false drops the event for this rule. */
  readonly admit: Predicate | undefined;
  readonly timeGetter: FirstValueGetter | undefined;
  readonly schedule: ScheduleSpec | undefined;
  readonly needsTimeOrder: boolean;
  /** The literal prefilter of the rule's event query (derived when first asked for); undefined: none. */
  readonly prefilter: () => LinePrefilter | undefined;
  makeRun(pass: HuntPass, self: CompiledRule): RuleRun;
}

interface ScheduleSpec {
  readonly intervalMs: number;
  readonly lookbackMs: number;
}

interface RuleRun {
  push(event: EventRecord): void;
  finish(): void;
}

/** The reason a threat_match rule whose queries compile is not run: nothing to match against. */
export const NO_IOCS_REASON =
  "no IOC lists loaded to match against (give --iocs FILE or a pack with [[iocs]])";

const NOT_RUN_REASONS: Record<string, string> = {
  esql: "ES|QL rules are not run: Quarry has no ES|QL engine",
  machine_learning:
    "machine_learning rules need Elastic's anomaly-detection jobs (machine_learning_job_id), which do not exist offline",
};

/**
 * A hunt: rules compiled once. `pass()` makes the per-pass state (a time-ordered read may throw one pass
 * away and start another from a sorted stream).
 */
export class Hunt {
  readonly reports: RuleReport[] = [];
  readonly compiled: CompiledRule[] = [];
  readonly refusals: ExceptionRefusal[];
  readonly needsTimeOrder: boolean;
  /** A tiebreaker shared by every time-ordered rule, used to order the pass. */
  readonly tiebreakerField: string | undefined;
  readonly notes: string[] = [];
  readonly timestampField: string;
  readonly iocIndex: IndicatorIndex | undefined;
  readonly iocRuleOf = new Map<Indicator, CompiledRule>();
  private dispatch: RuleIndex | undefined;
  /** Folded field values shared by every rule's literal pre-check (see literals.ts). */
  private readonly folded = new FoldedValues();

  constructor(readonly options: HuntOptions) {
    this.timestampField = options.timestampField ?? "@timestamp";
    const allRules = [...options.rules, ...(options.iocs ?? []).map((i) => i.rule)];
    const plan = planExceptions(
      allRules,
      options.exceptions ?? [],
      options.protectedRules ?? new Map(),
      options.forceExceptions ?? false,
    );
    this.refusals = [...plan.refusals];
    if (plan.global.length > 0)
      this.notes.push(
        `exception list${plan.global.length > 1 ? "s" : ""} ${plan.global.map((l) => `"${l.name}"`).join(", ")} named by no loaded rule: applied to every rule`,
      );
    // Indicator documents are stamped with "now" so threat_query's `@timestamp >= "now-30d"` keeps them.
    const stamp = options.now ? { timestamp: formatTimestamp(options.now) } : {};
    const threatDocs = (options.iocs ?? []).flatMap((i) => toThreatIntelDocuments(i.list, stamp));
    const tiebreakers = new Set<string>();
    let needsOrder = false;
    const shard = options.shard;
    const owns = (i: number) => !shard || shard.owners[i] === shard.index;
    for (const [i, rule] of options.rules.entries()) {
      const report: RuleReport = {
        rule,
        status: "not_run",
        broken: false,
        alerts: 0,
        ms: 0,
        truncated: 0,
        evaluated: 0,
      };
      this.reports.push(report);
      if (!owns(i)) {
        this.notRun(report, OTHER_SHARD_REASON);
        continue;
      }
      const c = this.compileRule(rule, report, plan.byRule.get(rule.ruleId), threatDocs);
      if (!c) continue;
      report.status = "ran";
      this.compiled.push(c);
      if (c.needsTimeOrder) {
        needsOrder = true;
        if (rule.tiebreakerField) tiebreakers.add(rule.tiebreakerField);
      }
    }
    // IOC lists: one shared index; each indicator knows its list's rule.
    const iocInputs = options.iocs ?? [];
    if (iocInputs.length > 0) {
      for (const ioc of iocInputs) {
        const report: RuleReport = {
          rule: ioc.rule,
          status: "ran",
          broken: false,
          alerts: 0,
          ms: 0,
          truncated: 0,
          evaluated: 0,
        };
        this.reports.push(report);
        if (!owns(options.rules.length)) {
          this.notRun(report, OTHER_SHARD_REASON);
          continue;
        }
        if (ioc.list.indicators.length === 0) {
          report.status = "not_run";
          report.reason = "the IOC list holds no indicators";
          continue;
        }
        const exceptions = compileExceptionLists(plan.byRule.get(ioc.rule.ruleId) ?? []);
        const c: CompiledRule = {
          index: this.compiled.length,
          rule: ioc.rule,
          report,
          guard: undefined,
          admit: exceptions ? (doc) => !exceptions(doc) : undefined,
          timeGetter: undefined,
          schedule: this.scheduleSpec(ioc.rule),
          needsTimeOrder: false,
          prefilter: () => prefilterForIndicators(ioc.list.indicators),
          makeRun: () => ({ push() {}, finish() {} }),
        };
        this.compiled.push(c);
        for (const indicator of ioc.list.indicators) this.iocRuleOf.set(indicator, c);
      }
      if (owns(options.rules.length)) this.iocIndex = buildIndicatorIndex(iocInputs.map((i) => i.list));
    }
    if (options.timeOrder) {
      this.needsTimeOrder = options.timeOrder.needsTimeOrder;
      this.tiebreakerField = options.timeOrder.tiebreakerField;
      return;
    }
    this.needsTimeOrder = needsOrder;
    this.tiebreakerField = tiebreakers.size === 1 ? [...tiebreakers][0] : undefined;
    if (tiebreakers.size > 1)
      this.notes.push(
        `rules name different tiebreaker fields (${[...tiebreakers].join(", ")}); events with equal timestamps are ordered by input order`,
      );
  }

  /**
   * What a line must contain for any rule of the hunt to need it: the union of every running rule's
   * literal prefilter (its event query; IOC lists: their domains and hashes). Undefined when one rule has
   * none (it may need any line). A rule's filters and exceptions only ever remove events, so they add no
   * requirement. Skipped lines still count towards the input's time span (see ReadOptions.keepTimeBounds).
   */
  linePrefilter(): LinePrefilter | undefined {
    const filters: (LinePrefilter | undefined)[] = [];
    for (const c of this.compiled) {
      const f = c.prefilter();
      if (!f) return undefined;
      filters.push(f);
    }
    return filters.length > 0 ? unionPrefilters(filters) : undefined;
  }

  /**
   * The dispatch index, built once from the first events seen: each rule's guard is chosen by how many of
   * the sample's events its candidate conditions let through (a static guess when there is no sample).
   */
  dispatchFor(sample: readonly EventRecord[]): RuleIndex {
    if (!this.dispatch) {
      const rules = this.compiled.filter((c) => c.rule.type !== "ioc");
      const stats = new TermStats(
        rules.flatMap((c) => guardTerms(c.guard)),
        sample,
      );
      const estimate = (t: GuardTerm) => stats.estimate(t);
      this.dispatch = new RuleIndex(
        rules.map((c) => ({
          index: c.index,
          routing: this.options.exhaustive
            ? { single: [], multi: undefined }
            : chooseRouting(c.guard, estimate),
        })),
      );
    }
    return this.dispatch;
  }

  private scheduleSpec(rule: DetectionRule): ScheduleSpec | undefined {
    if (!this.options.schedule) return undefined;
    const intervalMs = parseDuration(rule.interval) ?? 5 * 60_000;
    const lb = lookbackMs(rule.from) ?? 6 * 60_000;
    return { intervalMs, lookbackMs: lb };
  }

  private notRun(report: RuleReport, reason: string, error?: unknown): undefined {
    report.status = "not_run";
    report.reason = reason;
    if (error !== undefined) {
      report.broken = true;
      if (isQuarryError(error)) report.diagnostic = error;
    }
    return undefined;
  }

  private compileRule(
    rule: DetectionRule,
    report: RuleReport,
    exceptionLists: readonly ExceptionList[] | undefined,
    threatDocs: readonly JsonObject[],
  ): CompiledRule | undefined {
    const type = rule.type === "saved_query" && rule.query !== undefined ? "query" : rule.type;
    if (NOT_RUN_REASONS[type]) return this.notRun(report, NOT_RUN_REASONS[type]);
    if (!["eql", "query", "threshold", "new_terms", "threat_match"].includes(type))
      return this.notRun(report, `rule type "${rule.type}" is not supported`);
    const language = rule.language ?? (type === "eql" ? "eql" : "kuery");
    if (language === "lucene")
      return this.notRun(report, "Lucene query syntax is not supported (Quarry runs KQL and EQL rules)");
    if (type === "eql" ? language !== "eql" : language !== "kuery")
      return this.notRun(report, `language "${language}" is not supported for ${type} rules`);
    const schema = this.options.schema;
    const text = rule.query ?? "";
    let query: CompiledQuery;
    let guard: GuardExpr | undefined;
    let need: TextNeed | undefined;
    let derivePrefilter: () => LinePrefilter | undefined;
    const categoryField = rule.eventCategoryOverride ?? "event.category";
    try {
      if (type === "eql") {
        const eql = compileEql(text, {
          schema,
          timestampField: this.timestampField,
          tiebreakerField: rule.tiebreakerField,
          categoryField,
          maxPendingState: this.options.maxPendingState,
        });
        query = eql;
        guard = eqlGuard(eql.query, schema, categoryField);
        need = eqlTextNeed(eql.query, schema);
        derivePrefilter = () => prefilterForEql(eql.query, { schema, categoryField });
      } else {
        const ast = parseKql(text);
        query = compileKqlAst(ast, { schema, now: this.options.now?.ms }, text);
        guard = kqlGuard(ast, schema);
        need = kqlTextNeed(ast, schema);
        derivePrefilter = () => prefilterForKql(ast, { schema });
      }
    } catch (error) {
      if (isQuarryError(error))
        return this.notRun(report, `query does not compile: ${error.diagnostic.title}`, error);
      throw error;
    }
    let filters: Predicate | undefined;
    try {
      filters = compileFilters(rule.filters);
    } catch (error) {
      if (error instanceof FilterError) return this.notRun(report, `filters: ${error.message}`, error);
      throw error;
    }
    const exceptions = compileExceptionLists(exceptionLists ?? []);
    const admit: Predicate | undefined =
      filters && exceptions
        ? (doc) => filters!(doc) && !exceptions(doc)
        : filters
          ? filters
          : exceptions
            ? (doc) => !exceptions(doc)
            : undefined;
    const timeGetter = rule.timestampOverride ? compileFirstValue(rule.timestampOverride) : undefined;
    const base = {
      index: this.compiled.length,
      rule,
      report,
      guard,
      admit,
      timeGetter,
      schedule: this.scheduleSpec(rule),
      needsTimeOrder: query.needsTimeOrder,
      prefilter: once(derivePrefilter),
    };
    const full = query.shape === "event" && query.matches ? query.matches : undefined;
    // The literal pre-check first: it rules most candidate events out for a fraction of the query's cost.
    const checks = !this.options.exhaustive && this.options.literalChecks !== false;
    const check = full && checks ? compileTextCheck(need, this.folded) : undefined;
    const matches = full && check ? (event: EventRecord) => check(event.source) && full(event) : full;
    switch (type) {
      case "eql":
      case "query":
        if (matches && !query.needsTimeOrder)
          return { ...base, makeRun: (pass, self) => new EventRuleRun(pass, self, matches) };
        {
          const gate =
            type === "eql" && !this.options.exhaustive ? sequenceGate(query as CompiledEql) : undefined;
          const seqCheck = checks ? compileTextCheck(need, this.folded) : undefined;
          return {
            ...base,
            makeRun: (pass, self) => new QueryRuleRun(pass, self, query, gate, seqCheck),
          };
        }
      case "threshold": {
        if (!matches) return this.notRun(report, "threshold rules need an event query");
        const spec = rule.threshold!;
        return { ...base, makeRun: (pass, self) => new ThresholdRun(pass, self, matches, spec) };
      }
      case "new_terms": {
        if (!matches) return this.notRun(report, "new_terms rules need an event query");
        const history = rule.historyWindowStart ?? "now-7d";
        if (resolveDateMath(history, 0) === undefined)
          return this.notRun(
            report,
            `history_window_start "${history}" is not date math`,
            new Error(history),
          );
        return {
          ...base,
          makeRun: (pass, self) => new NewTermsRun(pass, self, matches, rule.newTermsFields ?? [], history),
        };
      }
      case "threat_match": {
        if (!matches) return this.notRun(report, "threat_match rules need an event query");
        let threatIndex: ThreatIndex;
        try {
          threatIndex = new ThreatIndex(rule, threatDocs, schema, this.options.now?.ms);
        } catch (error) {
          if (isQuarryError(error))
            return this.notRun(report, `threat_query does not compile: ${error.diagnostic.title}`, error);
          if (error instanceof FilterError)
            return this.notRun(report, `threat_filters: ${error.message}`, error);
          throw error;
        }
        if (threatDocs.length === 0) return this.notRun(report, NO_IOCS_REASON);
        if (threatIndex.size === 0)
          return this.notRun(
            report,
            "no loaded indicator matches the rule's threat_query and threat_mapping fields",
          );
        return { ...base, makeRun: (pass, self) => new ThreatMatchRun(pass, self, matches, threatIndex) };
      }
      default:
        return this.notRun(report, `rule type "${rule.type}" is not supported`);
    }
  }

  /** A pass; `profile` times every rule on every event (overriding the hunt's option). */
  pass(options: { readonly profile?: boolean } = {}): HuntPass {
    return new HuntPass(this, options);
  }
}

/** Events sampled before guards are chosen. */
const SAMPLE_EVENTS = 2048;

/** A node of the term fields' trie (by path segment), with the counts of the field it ends, if any. */
interface StatNode {
  readonly children: Map<string, StatNode>;
  /** Set when a term's field ends here. */
  stats: FieldStats | undefined;
}

interface FieldStats {
  /** Sampled events holding the field. */
  present: number;
  /** Per value key, the sampled events holding it, and the last event counted (each event counts once). */
  readonly values: Map<string, { count: number; event: number }>;
  /** The last event counted in `present`. */
  event: number;
}

/** How often each guard term holds in a sample of the input. */
class TermStats {
  private readonly fields = new Map<string, FieldStats>();
  private readonly n: number;
  constructor(terms: readonly GuardTerm[], sample: readonly EventRecord[]) {
    this.n = sample.length;
    // The sample is walked once along a trie of the term fields (no path strings built per key): the
    // first events of every hunt pay for this walk.
    const root: StatNode = { children: new Map(), stats: undefined };
    const descend = (from: StatNode, segments: readonly string[], create: boolean): StatNode | undefined => {
      let node: StatNode | undefined = from;
      for (const segment of segments) {
        let child: StatNode | undefined = node.children.get(segment);
        if (!child) {
          if (!create) return undefined;
          node.children.set(segment, (child = { children: new Map(), stats: undefined }));
        }
        node = child;
      }
      return node;
    };
    for (const t of terms) {
      const node = descend(root, t.field.split("."), true)!;
      if (!node.stats) {
        node.stats = { present: 0, values: new Map(), event: -1 };
        this.fields.set(t.field, node.stats);
      }
    }
    const count = (stats: FieldStats, key: string, event: number) => {
      const entry = stats.values.get(key);
      if (!entry) stats.values.set(key, { count: 1, event });
      else if (entry.event !== event) {
        entry.count++;
        entry.event = event;
      }
    };
    const visit = (value: JsonValue, node: StatNode, event: number, depth: number): void => {
      if (value === null || depth > MAX_WALK_DEPTH) return;
      if (Array.isArray(value)) {
        for (const e of value) visit(e, node, event, depth + 1);
        return;
      }
      const stats = node.stats;
      if (stats) {
        if (stats.event !== event) {
          stats.event = event;
          stats.present++;
        }
        if (typeof value !== "object" || typeof value === "bigint") {
          const lower = typeof value === "string" ? value.toLowerCase() : undefined;
          if (lower !== undefined) count(stats, lower, event);
          const int = typeof value === "boolean" ? undefined : integerKey(value);
          if (int !== undefined && int !== lower) count(stats, int, event);
        }
      }
      if (typeof value !== "object" || typeof value === "bigint" || node.children.size === 0) return;
      for (const key in value) {
        // A dotted key (`"process.name"`) stands for as many levels as it has segments.
        const child =
          node.children.get(key) ?? (key.includes(".") ? descend(node, key.split("."), false) : undefined);
        if (child) visit((value as JsonObject)[key] as JsonValue, child, event, depth + 1);
      }
    };
    for (let i = 0; i < sample.length; i++) visit(sample[i].source, root, i, 0);
  }
  /** Fraction of events the term lets through; ties (and no sample) broken by the static guess. */
  estimate(t: GuardTerm): number {
    const fallback = staticEstimate(t);
    if (this.n === 0) return fallback;
    let count: number;
    const stats = this.fields.get(t.field);
    if (t.values === undefined) count = stats?.present ?? 0;
    else {
      count = 0;
      if (stats) for (const v of t.values) count += stats.values.get(v)?.count ?? 0;
    }
    return (Math.min(count, this.n) + 0.5) / (this.n + 1) + fallback * 1e-3;
  }
}

/** Rules from which a pass projects each document (see HuntPass.projectDocuments). */
const PROJECT_DOCUMENTS_RULES = 64;

/** Documents nested deeper than this are not walked: every rule sees them (never a stack overflow). */
const MAX_WALK_DEPTH = 64;

/** Per-pass state: rule runs, the time range seen, hits. */
export class HuntPass {
  readonly runs: RuleRun[] = [];
  private readonly collectors: HitCollector[];
  private readonly tsGetter: FirstValueGetter;
  private readonly profile: boolean;
  min: Timestamp | undefined;
  max: Timestamp | undefined;
  /** The current event's candidate rules (compiled indexes): `pushEvent` uses as many as dispatch wrote. */
  private readonly candidates: Int32Array;
  private readonly iocRules: CompiledRule[];
  /** Time of the event being dispatched (its `@timestamp`, or the configured field). */
  currentTime: Timestamp | undefined;

  private dispatch: RuleIndex | undefined;
  private sample: EventRecord[] | undefined = [];

  /**
   * Large rule sets read many multi-segment fields per event (~75 for the detection-rules corpus), most
   * of them several times (dispatch, literal pre-checks, the rules): projecting each document once
   * (`projectDocument`) makes those reads slot lookups; a small pack reads too few to repay the walk.
   */
  private readonly projectDocuments: boolean;
  /** Per compiled rule: time spent (ms, sampled unless profiling) and events seen after dispatch. */
  private readonly ms: Float64Array;
  private readonly evaluated: Float64Array;

  constructor(
    readonly hunt: Hunt,
    options: { readonly profile?: boolean } = {},
  ) {
    this.collectors = hunt.compiled.map((c) => new HitCollector(c, hunt.options.from?.ms ?? 0));
    this.runs = hunt.compiled.map((c) => c.makeRun(this, c));
    this.tsGetter = compileFirstValue(hunt.timestampField);
    this.profile = options.profile ?? hunt.options.profile ?? false;
    this.projectDocuments = hunt.compiled.length >= PROJECT_DOCUMENTS_RULES;
    this.ms = new Float64Array(hunt.compiled.length);
    this.evaluated = new Float64Array(hunt.compiled.length);
    this.candidates = new Int32Array(hunt.compiled.length);
    this.iocRules = hunt.compiled.filter((c) => c.rule.type === "ioc");
  }

  collector(c: CompiledRule): HitCollector {
    return this.collectors[c.index];
  }

  /** The rule's time for an event: its timestamp_override, falling back to the event's timestamp. */
  ruleTime(c: CompiledRule, event: EventRecord): Timestamp | undefined {
    if (c.timeGetter) {
      // Most overriding rules name the same field (1,915 corpus rules use `event.ingested`): it is parsed
      // once per event, not once per rule.
      const field = c.rule.timestampOverride;
      let t: Timestamp | undefined;
      if (event === this.overrideEvent && field === this.overrideField) t = this.overrideTime;
      else {
        t = parseTimestamp(c.timeGetter(event.source));
        this.overrideEvent = event;
        this.overrideField = field;
        this.overrideTime = t;
      }
      if (t || c.rule.timestampOverrideFallbackDisabled) return t;
    }
    return event === this.currentEvent ? this.currentTime : parseTimestamp(this.tsGetter(event.source));
  }
  private currentEvent: EventRecord | undefined;
  /** The event whose `overrideField` was parsed last, and its time (see `ruleTime`). */
  private overrideEvent: EventRecord | undefined;
  private overrideField: string | undefined;
  private overrideTime: Timestamp | undefined;

  push(batch: readonly EventRecord[]): void {
    if (this.sample) {
      // The first events choose the guards; then they are dispatched like the rest.
      for (const event of batch) this.sample.push(event);
      if (this.sample.length >= SAMPLE_EVENTS) this.flushSample();
      return;
    }
    for (const event of batch) this.pushEvent(event);
  }

  /** Dispatch the events held back to choose the guards (finish does this; a sampling pass may too). */
  flush(): void {
    if (this.sample) this.flushSample();
  }

  private flushSample(): void {
    const sample = this.sample ?? [];
    this.sample = undefined;
    this.dispatch = this.hunt.dispatchFor(sample);
    for (const event of sample) this.pushEvent(event);
  }

  pushEvent(event: EventRecord): void {
    if (this.projectDocuments) projectDocument(event.source);
    const t = parseTimestamp(this.tsGetter(event.source));
    this.currentEvent = event;
    this.currentTime = t;
    if (t) {
      if (!this.min || compareTimestamps(t, this.min) < 0) this.min = t;
      if (!this.max || compareTimestamps(t, this.max) > 0) this.max = t;
    }
    const seq = event.seq;
    const candidates = this.candidates;
    let count: number;
    const dispatch = this.dispatch!;
    try {
      count = dispatch.candidates(event.source, candidates);
    } catch (error) {
      // A document nested too deeply to read safely: every rule sees it (each rule copes on its own).
      if (!(error instanceof RangeError)) throw error;
      count = dispatch.all(candidates);
    }
    if (!t && this.hunt.needsTimeOrder) {
      // Without a readable timestamp an event has no place in time order: the rules that need it
      // (sequences, samples) never see it; every other rule does.
      const compiled = this.hunt.compiled;
      let kept = 0;
      for (let k = 0; k < count; k++)
        if (!compiled[candidates[k]].needsTimeOrder) candidates[kept++] = candidates[k];
      count = kept;
    }
    const timed = this.profile || (seq & 63) === 0;
    const ms = this.ms;
    const evaluated = this.evaluated;
    for (let k = 0; k < count; k++) {
      const i = candidates[k];
      const run = this.runs[i];
      // A stopped rule sees no more events: its count stays where it stopped.
      if (run === STOPPED_RUN) continue;
      evaluated[i]++;
      try {
        if (timed) {
          const t0 = performance.now();
          run.push(event);
          ms[i] += (performance.now() - t0) * (this.profile ? 1 : 64);
        } else run.push(event);
      } catch (error) {
        this.stop(i, error);
      }
    }
    const iocIndex = this.hunt.iocIndex;
    if (iocIndex) this.matchIocs(iocIndex, event, timed);
  }

  private matchIocs(index: IndicatorIndex, event: EventRecord, timed: boolean): void {
    const t0 = timed ? performance.now() : 0;
    const matches = index.matchEvent(event.source, event.raw);
    if (matches.length > 0) {
      const byRule = new Map<CompiledRule, JsonObject[]>();
      for (const m of matches) {
        const c = this.hunt.iocRuleOf.get(m.indicator);
        if (!c) continue;
        let list = byRule.get(c);
        if (!list) byRule.set(c, (list = []));
        list.push(iocEnrichment(m.indicator, m.field, m.value));
      }
      for (const [c, enrichments] of byRule) {
        if (c.admit && !c.admit(event.source)) continue;
        this.collector(c).add(
          { kind: "event", event, time: this.currentTime, enrichments },
          this.ruleTime(c, event),
          `${event.index}\u0000${event.id}`,
        );
      }
    }
    if (timed) {
      // The shared index's time is split evenly over the IOC rules.
      const dt = (performance.now() - t0) * (this.profile ? 1 : 64);
      for (const c of this.iocRules) this.ms[c.index] += dt / this.iocRules.length;
    }
    for (const c of this.iocRules) this.evaluated[c.index]++;
  }

  /** Hit keys held for deduplication, summed over the rules (bounded by their max_signals; for tests). */
  heldHitKeys(): number {
    let n = 0;
    for (const c of this.collectors) n += c.heldKeys;
    return n;
  }

  /** Time each compiled rule took so far in this pass (ms, by compiled index), before `finish`. */
  ruleMs(): Float64Array {
    return this.ms;
  }

  /**
   * Widen the input's time span with times of events the pass did not see (lines a prefilter skipped):
   * "now" and the schedule are the whole input's, not just the candidate events'.
   */
  includeTimeBounds(min: Timestamp | undefined, max: Timestamp | undefined): void {
    if (min && (!this.min || compareTimestamps(min, this.min) < 0)) this.min = min;
    if (max && (!this.max || compareTimestamps(max, this.max) > 0)) this.max = max;
  }

  /**
   * A rule whose run hit one of its limits (a QuarryError: the sequence state cap, too many join keys)
   * stops here: its state is dropped, the hits it made are kept, and every other rule goes on. Any other
   * error is a bug and propagates.
   */
  private stop(index: number, error: unknown): void {
    if (!isQuarryError(error)) throw error;
    if (error.diagnostic.code === KeyCode.tooManyKeys) {
      // The engines compute every key of an event before changing any state, so the rule skips just this
      // event and goes on: one hostile event must not switch a detection off.
      const seen = this.skipped.get(index);
      this.skipped.set(index, { error: seen?.error ?? error, events: (seen?.events ?? 0) + 1 });
      return;
    }
    this.runs[index] = STOPPED_RUN;
    this.stopped.set(index, { error, events: this.evaluated[index] });
  }
  /** Per rule (compiled index) that skipped events (EQL174): the first one's error, and how many. */
  private readonly skipped = new Map<number, { readonly error: QuarryError; readonly events: number }>();
  /** Rules stopped in this pass (by compiled index): why, and after how many events. */
  private readonly stopped = new Map<number, { readonly error: QuarryError; readonly events: number }>();

  /** End of input: finish every run, apply max_signals, build alerts. */
  finish(): HuntResult {
    if (this.sample) this.flushSample();
    for (let i = 0; i < this.runs.length; i++) {
      try {
        this.runs[i].finish();
      } catch (error) {
        this.stop(i, error);
      }
    }
    for (const [i, { error, events }] of this.skipped) {
      const report = this.hunt.compiled[i].report;
      report.skippedEvents = events;
      report.skipReason = error.diagnostic.title;
      report.diagnostic = error;
    }
    for (const [i, { error, events }] of this.stopped) {
      const report = this.hunt.compiled[i].report;
      report.stopped = true;
      report.diagnostic = error;
      // Threshold and new_terms rules decide their alerts at the end of the input: a stopped one has none.
      const atEnd = report.rule.type === "threshold" || report.rule.type === "new_terms";
      report.reason = `stopped after ${events} events: ${error.diagnostic.title}; ${atEnd ? "it alerts only at the end of the input, so it gives no alerts" : "the alerts it made until then are kept"}`;
    }
    const now = this.hunt.options.now ?? this.max;
    const alerts: Alert[] = [];
    for (const c of this.hunt.compiled) {
      c.report.ms += this.ms[c.index];
      c.report.evaluated += this.evaluated[c.index];
      const collector = this.collectors[c.index];
      const kept = collector.take();
      c.report.truncated = collector.truncated;
      for (const { hit, run } of kept) {
        // A scheduled run's alerts carry the run's time; the single default run's, "now".
        const execTime =
          run !== undefined && c.schedule
            ? { ms: this.scheduleOrigin() + run * c.schedule.intervalMs, nanos: 0 }
            : now;
        alerts.push(buildAlert(c.rule, hit, execTime));
      }
      c.report.alerts = kept.length;
    }
    alerts.sort(compareAlerts);
    return {
      alerts,
      rules: this.hunt.reports,
      refusals: this.hunt.refusals,
      now,
      start: this.min,
      notes: this.hunt.notes,
    };
  }

  /** Schedule origin: `--from` when given, else epoch 0 (runs at multiples of the interval). */
  scheduleOrigin(): number {
    return this.hunt.options.from?.ms ?? 0;
  }
}

/** Codes of the hunt's own state caps (EQL sequences and samples have EQL172). */
export const RuleStateCode = { newTerms: "RULE221", threshold: "RULE222" } as const;

/** A rule's state passed HuntOptions.maxPendingState: the run throws it, and the pass stops the rule. */
function stateLimit(code: string, title: string): QuarryError {
  return new QuarryError({
    code,
    severity: "error",
    title,
    labels: [],
    help: "narrow the rule's query or fields, or raise the limit (--max-state)",
  });
}

/** The run of a stopped rule: it sees nothing more. */
const STOPPED_RUN: RuleRun = { push() {}, finish() {} };

interface KeptHit {
  readonly hit: RuleHit;
  readonly time: Timestamp | undefined;
  /** Schedule run index, when replaying the schedule. */
  readonly run: number | undefined;
  /** The hit's identity (its event, or its sequence's events): duplicates collapse on it. */
  readonly key: string;
}

/**
 * A rule's hits: duplicates of one rule on one event collapse (by key); at most `max_signals` per run are
 * kept, earliest first, and the rest are counted as truncated. Memory stays bounded by keeping at most
 * twice max_signals per run between trims, and only the kept hits' keys: a duplicate of a hit already
 * dropped sorts where its original did, so it is dropped again (and counted again as truncated).
 */
class HitCollector {
  /** Keys of the hits held in `perRun`. */
  private readonly keys = new Set<string>();
  private readonly perRun = new Map<number, KeptHit[]>();
  /**
   * Per run, once its list has been cut to max_signals: the last hit kept then. A later hit that sorts
   * at or after it can never be kept (the kept hits only get earlier), so it is counted as dropped at
   * once instead of being held, with its event, until the next cut: a profiling rule matching most
   * events held hundreds of documents long enough for V8 to promote them.
   */
  private readonly boundary = new Map<number, KeptHit>();
  private dropped = 0;
  constructor(
    private readonly c: CompiledRule,
    /** Schedule origin (epoch ms): runs happen at origin + k * interval. */
    private readonly origin: number,
  ) {}

  /** A hit that could not be kept (its event was not retained): counted as truncated. */
  countLost(): void {
    this.dropped++;
  }

  add(hit: RuleHit, ruleTime: Timestamp | undefined, key: string, run?: number): void {
    if (this.keys.has(key)) return;
    let k = run;
    if (this.c.schedule && k === undefined) {
      if (!ruleTime) return;
      k = this.firstRunFor(ruleTime);
      if (k === undefined) return;
    }
    const bucketKey = k ?? 0;
    const kept: KeptHit = { hit, time: hit.time ?? ruleTime, run: k, key };
    const last = this.boundary.get(bucketKey);
    // Sorting is stable: a hit tied with the boundary sorts after it.
    if (last && compareHits(kept, last) >= 0) {
      this.dropped++;
      return;
    }
    this.keys.add(key);
    let list = this.perRun.get(bucketKey);
    if (!list) this.perRun.set(bucketKey, (list = []));
    list.push(kept);
    const max = this.c.rule.maxSignals;
    if (list.length >= 2 * max + 16) {
      sortHits(list);
      this.dropped += list.length - max;
      for (let i = max; i < list.length; i++) this.keys.delete(list[i].key);
      list.length = max;
      if (max > 0) this.boundary.set(bucketKey, list[max - 1]);
    }
  }

  private firstRunFor(t: Timestamp): number | undefined {
    const spec = this.c.schedule!;
    const first = Math.ceil((t.ms - this.origin) / spec.intervalMs);
    const last = Math.floor((t.ms + spec.lookbackMs - this.origin) / spec.intervalMs);
    return first <= last ? first : undefined;
  }

  get truncated(): number {
    return this.dropped;
  }

  /** How many hit keys are held for deduplication (bounded: see the class comment). */
  get heldKeys(): number {
    return this.keys.size;
  }

  take(): KeptHit[] {
    const out: KeptHit[] = [];
    const max = this.c.rule.maxSignals;
    for (const k of [...this.perRun.keys()].sort((a, b) => a - b)) {
      const list = this.perRun.get(k)!;
      sortHits(list);
      if (list.length > max) {
        this.dropped += list.length - max;
        list.length = max;
      }
      out.push(...list);
    }
    return out;
  }
}

/** Hits by time; hits without one last. */
function compareHits(a: KeptHit, b: KeptHit): number {
  return a.time && b.time ? compareTimestamps(a.time, b.time) : a.time ? -1 : b.time ? 1 : 0;
}

function sortHits(list: KeptHit[]): void {
  list.sort(compareHits);
}

// ---------------------------------------------------------------------------------------------------
// Rule runs

/** `query` and EQL event rules: a predicate per event. */
class EventRuleRun implements RuleRun {
  private readonly collector: HitCollector;
  constructor(
    private readonly pass: HuntPass,
    private readonly c: CompiledRule,
    private readonly matches: (event: EventRecord) => boolean,
  ) {
    this.collector = pass.collector(c);
  }
  push(event: EventRecord): void {
    if (!this.matches(event)) return;
    if (this.c.admit && !this.c.admit(event.source)) return;
    this.collector.add(
      { kind: "event", event, time: this.pass.currentTime },
      this.pass.ruleTime(this.c, event),
      `${event.index}\u0000${event.id}`,
    );
  }
  finish(): void {}
}

/**
 * A sequence's first stage as a predicate, and its maxspan: an event can only take part in a sequence
 * when it matches the first stage or comes at most maxspan after an event that did (events arrive in
 * time order), so other events need not reach the sequence engine at all. Undefined when the sequence
 * cannot be gated (not a sequence, or its first stage is a missing-event stage).
 */
interface SequenceGate {
  readonly first: (event: EventRecord) => boolean;
  readonly maxspanMs: number | undefined;
}

function sequenceGate(query: CompiledEql): SequenceGate | undefined {
  const body = query.query.body;
  if (body.kind !== "sequence" || query.query.pipes.length > 0) return undefined;
  // The query's own first stage (absent when it is a missing-event stage): the run then finds the gate's
  // answer instead of evaluating the stage again.
  return query.firstStage ? { first: query.firstStage, maxspanMs: body.maxspan?.ms } : undefined;
}

/** EQL sequences, samples and queries with pipes: the engine's own run, fed the admitted events. */
class QueryRuleRun implements RuleRun {
  private readonly run: QueryRun;
  private readonly collector: HitCollector;
  /** Time of the latest first-stage event (gated sequences); undefined until one is seen. */
  private lastFirst: Timestamp | undefined;
  constructor(
    private readonly pass: HuntPass,
    private readonly c: CompiledRule,
    query: CompiledQuery,
    private readonly gate: SequenceGate | undefined,
    /** The literal pre-check of the query's stages: an event failing it matches none of them. */
    private readonly check: ((doc: JsonObject) => boolean) | undefined,
  ) {
    this.run = query.start();
    this.collector = pass.collector(c);
  }
  push(event: EventRecord): void {
    if (this.check && !this.check(event.source)) return;
    if (this.c.admit && !this.c.admit(event.source)) return;
    const gate = this.gate;
    if (gate) {
      const t = this.pass.currentTime;
      if (gate.first(event))
        this.lastFirst = t ?? this.lastFirst ?? { ms: Number.NEGATIVE_INFINITY, nanos: 0 };
      else if (!this.lastFirst) return;
      else if (gate.maxspanMs !== undefined && t && t.ms - this.lastFirst.ms > gate.maxspanMs) return;
    }
    const hits = this.run.push(event);
    if (hits) for (const h of hits) this.record(h);
  }
  finish(): void {
    for (const h of this.run.finish()) this.record(h);
  }
  private record(h: import("../query/index.js").QueryHit): void {
    if (h.kind === "event") {
      const time = parseTimestamp(compileField(this.pass.hunt.timestampField)(h.event.source)[0]);
      this.collector.add(
        { kind: "event", event: h.event, time },
        this.pass.ruleTime(this.c, h.event),
        `${h.event.index}\u0000${h.event.id}`,
      );
      return;
    }
    const members = h.events.filter((e): e is EventRecord => e !== null);
    const times = members
      .map((e) => this.pass.ruleTime(this.c, e))
      .filter((t): t is Timestamp => t !== undefined);
    const firstT = times.length ? times.reduce((a, b) => (compareTimestamps(a, b) <= 0 ? a : b)) : undefined;
    const lastT = times.length ? times.reduce((a, b) => (compareTimestamps(a, b) >= 0 ? a : b)) : undefined;
    let run: number | undefined;
    if (this.c.schedule) {
      if (!firstT || !lastT) return;
      // The sequence must fit one run's window.
      const spec = this.c.schedule;
      const origin = this.pass.scheduleOrigin();
      const first = Math.ceil((lastT.ms - origin) / spec.intervalMs);
      const last = Math.floor((firstT.ms + spec.lookbackMs - origin) / spec.intervalMs);
      if (first > last) return;
      run = first;
    }
    const key = members.map((e) => `${e.index}\u0000${e.id}`).join("\u0001");
    const time = members.length
      ? parseTimestamp(compileField(this.pass.hunt.timestampField)(members[0].source)[0])
      : undefined;
    this.collector.add({ kind: "sequence", events: h.events, joinKeys: h.joinKeys, time }, firstT, key, run);
  }
}

function termText(v: JsonValue): string | undefined {
  if (v === null) return undefined;
  if (typeof v === "object") return stringifyJson(v);
  return String(v);
}

interface ThresholdGroup {
  terms: JsonValue[];
  count: number;
  cardinality: Set<string>[];
  first: Timestamp | undefined;
  last: Timestamp | undefined;
  members: { index: string; id: string }[];
}

/** Threshold: count admitted matching events per group (per schedule run when replaying). */
class ThresholdRun implements RuleRun {
  /** Every group by `run \u0001 terms` (for finish), and per run by terms (the per-event lookup). */
  private readonly groups = new Map<string, ThresholdGroup>();
  private readonly runs = new Map<number, Map<string, ThresholdGroup>>();
  private readonly getters: FirstValueGetter[];
  private readonly cardGetters: FieldGetter[];
  constructor(
    private readonly pass: HuntPass,
    private readonly c: CompiledRule,
    private readonly matches: (event: EventRecord) => boolean,
    private readonly spec: NonNullable<DetectionRule["threshold"]>,
  ) {
    this.getters = spec.field.map((f) => compileFirstValue(f));
    this.cardGetters = spec.cardinality.map((x) => compileField(x.field));
  }
  push(event: EventRecord): void {
    if (!this.matches(event)) return;
    if (this.c.admit && !this.c.admit(event.source)) return;
    // The group key is built without intermediate arrays: this runs for every matching event.
    const getters = this.getters;
    let termsKey = "";
    for (let i = 0; i < getters.length; i++) {
      const v = getters[i](event.source);
      // Kibana's terms aggregation leaves out documents missing a group-by field.
      if (v === undefined) return;
      const text = termText(v) ?? "";
      termsKey = i === 0 ? text : `${termsKey}\u0000${text}`;
    }
    const time = this.pass.ruleTime(this.c, event);
    let firstRun = 0;
    let lastRun = 0;
    if (this.c.schedule) {
      if (!time) return;
      const origin = this.pass.scheduleOrigin();
      firstRun = Math.ceil((time.ms - origin) / this.c.schedule.intervalMs);
      lastRun = Math.floor((time.ms + this.c.schedule.lookbackMs - origin) / this.c.schedule.intervalMs);
    }
    for (let k = firstRun; k <= lastRun; k++) {
      // Groups of one run by the terms' own text: a value read from the event is a flat string whose
      // hash is cached, where a composed key would be built and hashed again for every event.
      let run = this.runs.get(k);
      if (!run) this.runs.set(k, (run = new Map()));
      let group = run.get(termsKey);
      if (!group) {
        // Per schedule run (one run unless --schedule): a replayed schedule holds every run's groups until
        // the end, as it did before the cap, so only one run's groups can make the rule stop.
        const limit = this.pass.hunt.options.maxPendingState ?? DEFAULT_MAX_PENDING_STATE;
        if (run.size >= limit)
          throw stateLimit(RuleStateCode.threshold, `threshold state exceeded ${limit} groups`);
        group = {
          terms: getters.map((g) => g(event.source)!),
          count: 0,
          cardinality: this.cardGetters.map(() => new Set()),
          first: undefined,
          last: undefined,
          members: [],
        };
        run.set(termsKey, group);
        this.groups.set(`${k}\u0001${termsKey}`, group);
      }
      group.count++;
      for (let i = 0; i < this.cardGetters.length; i++) {
        const set = group.cardinality[i];
        if (set.size > 1_000_000) continue;
        for (const v of this.cardGetters[i](event.source)) {
          const t = termText(v);
          if (t !== undefined) set.add(t);
        }
      }
      if (time) {
        if (!group.first || compareTimestamps(time, group.first) < 0) group.first = time;
        if (!group.last || compareTimestamps(time, group.last) > 0) group.last = time;
      }
      if (group.members.length < 100) group.members.push({ index: event.index, id: event.id });
    }
  }
  finish(): void {
    const collector = this.pass.collector(this.c);
    // In schedule mode, a group that alerted is not alerted again for events up to that alert's last event.
    const alertedUntil = new Map<string, number>();
    const entries = [...this.groups.entries()].sort(
      (a, b) => Number(a[0].split("\u0001")[0]) - Number(b[0].split("\u0001")[0]),
    );
    for (const [key, g] of entries) {
      if (g.count < this.spec.value) continue;
      const card = this.spec.cardinality.map((c, i) => ({ field: c.field, value: g.cardinality[i].size }));
      if (card.some((c, i) => c.value < this.spec.cardinality[i].value)) continue;
      const sep = key.indexOf("\u0001");
      const run = Number(key.slice(0, sep));
      const termsKey = key.slice(sep + 1);
      if (this.c.schedule) {
        const until = alertedUntil.get(termsKey);
        if (until !== undefined && g.first && g.first.ms <= until) continue;
        if (g.last) alertedUntil.set(termsKey, g.last.ms);
      }
      collector.add(
        {
          kind: "threshold",
          terms: this.spec.field.map((field, i) => ({ field, value: g.terms[i] })),
          count: g.count,
          cardinality: card,
          time: g.first,
          last: g.last,
          members: g.members,
        },
        g.first,
        key,
        this.c.schedule ? run : undefined,
      );
    }
  }
}

interface TermsEntry {
  time: Timestamp;
  event: EventRecord | undefined;
  values: JsonValue[];
}

/** Keep at most this many candidate events per new_terms rule (older ones are certainly history). */
const NEW_TERMS_EVENT_CAP = 200_000;

/**
 * new_terms: the first sighting of each combination of the fields' values. Default mode: a combination
 * is new when first seen at or after `history_window_start` relative to "now". Schedule mode: when first
 * seen in a run whose history window did not contain it (so on its first sighting).
 */
class NewTermsRun implements RuleRun {
  private readonly seen = new Map<string, TermsEntry>();
  private readonly getters: FieldGetter[];
  private withEvent = 0;
  private sweepAt = 65_536;
  constructor(
    private readonly pass: HuntPass,
    private readonly c: CompiledRule,
    private readonly matches: (event: EventRecord) => boolean,
    fields: readonly string[],
    private readonly history: string,
  ) {
    this.getters = fields.map((f) => compileField(f));
  }
  push(event: EventRecord): void {
    if (!this.matches(event)) return;
    if (this.c.admit && !this.c.admit(event.source)) return;
    const time = this.pass.ruleTime(this.c, event);
    if (!time) return;
    // Every combination of the fields' values (multi-valued fields give several), capped.
    let combos: JsonValue[][] = [[]];
    for (const g of this.getters) {
      const values = g(event.source).filter((v) => typeof v !== "object" || v === null);
      if (values.length === 0) return;
      const next: JsonValue[][] = [];
      for (const combo of combos) for (const v of values) if (next.length < 100) next.push([...combo, v]);
      combos = next;
    }
    for (const values of combos) {
      const key = values.map((v) => termText(v) ?? "").join("\u0000");
      const entry = this.seen.get(key);
      if (!entry) {
        const limit = this.pass.hunt.options.maxPendingState ?? DEFAULT_MAX_PENDING_STATE;
        if (this.seen.size >= limit)
          throw stateLimit(RuleStateCode.newTerms, `new_terms state exceeded ${limit} term combinations`);
        this.seen.set(key, { time, event: this.keep() ? event : undefined, values });
        if (this.seen.size >= this.sweepAt) this.sweep();
      } else if (compareTimestamps(time, entry.time) < 0) {
        // An earlier sighting (unordered input): it becomes the first one.
        entry.time = time;
        entry.values = values;
        if (entry.event || this.keep()) entry.event = event;
      }
    }
  }
  private keep(): boolean {
    if (this.withEvent >= NEW_TERMS_EVENT_CAP) return false;
    this.withEvent++;
    return true;
  }
  /** Drop events of combinations first seen before the history window of the latest time so far. */
  private sweep(): void {
    this.sweepAt = this.seen.size * 2;
    this.sweepWith(this.pass.hunt.options.now ?? this.pass.max);
  }
  private sweepWith(now: Timestamp | undefined): void {
    if (!now || this.c.schedule) return;
    const start = resolveDateMath(this.history, now.ms)!;
    for (const entry of this.seen.values()) {
      if (entry.event && entry.time.ms < start) {
        entry.event = undefined;
        this.withEvent--;
      }
    }
  }
  finish(): void {
    const collector = this.pass.collector(this.c);
    const now = this.pass.hunt.options.now ?? this.pass.max;
    const start = now && !this.c.schedule ? resolveDateMath(this.history, now.ms)! : Number.NEGATIVE_INFINITY;
    for (const entry of this.seen.values()) {
      if (entry.time.ms < start) continue;
      if (!entry.event) {
        collector.countLost();
        continue;
      }
      const event = entry.event;
      collector.add(
        {
          kind: "event",
          event,
          time: parseTimestamp(compileField(this.pass.hunt.timestampField)(event.source)[0]),
          newTerms: entry.values,
        },
        entry.time,
        `${event.index}\u0000${event.id}`,
      );
    }
  }
}

/** Indicator documents selected by a threat_match rule's threat_query and filters, indexed by mapping. */
class ThreatIndex {
  readonly mappings: {
    entries: { field: FieldGetter; fieldName: string; value: string }[];
    map: Map<string, JsonObject[]>;
  }[] = [];
  size = 0;
  constructor(
    readonly rule: DetectionRule,
    docs: readonly JsonObject[],
    schema: Schema,
    now: number | undefined,
  ) {
    const threatQuery = rule.threatQuery ?? "*:*";
    const compiled = compileKql(threatQuery, { schema, now });
    const filters = compileFilters(rule.threatFilters);
    const selected = docs.filter((doc) => {
      if (filters && !filters(doc)) return false;
      const probe: EventRecord = {
        source: doc,
        raw: "",
        index: "quarry-threat-intel",
        id: "",
        provenance: { file: "" },
        seq: 0,
      };
      return compiled.matches ? compiled.matches(probe) : true;
    });
    for (const mapping of rule.threatMapping ?? []) {
      const map = new Map<string, JsonObject[]>();
      const entries = mapping.entries.map((e) => ({
        field: compileField(e.field),
        fieldName: e.field,
        value: e.value,
      }));
      const docGetters = mapping.entries.map((e) => compileField(e.value));
      for (const doc of selected) {
        const keys = combos(docGetters.map((g) => g(doc)));
        for (const key of keys) {
          const list = map.get(key);
          if (list) list.push(doc);
          else map.set(key, [doc]);
          this.size++;
        }
      }
      this.mappings.push({ entries, map });
    }
  }
}

function combos(valueLists: readonly JsonValue[][]): string[] {
  let out: string[] = [""];
  for (let i = 0; i < valueLists.length; i++) {
    const texts = valueLists[i].map(termText).filter((t): t is string => t !== undefined);
    if (texts.length === 0) return [];
    const next: string[] = [];
    for (const o of out)
      for (const t of texts) if (next.length < 1000) next.push(i === 0 ? t : `${o}\u0000${t}`);
    out = next;
  }
  return out;
}

function getPath(doc: JsonObject, path: string): JsonValue | undefined {
  const values = compileField(path)(doc);
  return values.length === 0 ? undefined : values[0];
}

/** threat_match: the event matches the rule's query, and its mapped fields equal an indicator's. */
class ThreatMatchRun implements RuleRun {
  constructor(
    private readonly pass: HuntPass,
    private readonly c: CompiledRule,
    private readonly matches: (event: EventRecord) => boolean,
    private readonly index: ThreatIndex,
  ) {}
  push(event: EventRecord): void {
    if (!this.matches(event)) return;
    if (this.c.admit && !this.c.admit(event.source)) return;
    const enrichments: JsonObject[] = [];
    const seen = new Set<JsonObject>();
    for (const m of this.index.mappings) {
      const keys = combos(m.entries.map((e) => e.field(event.source)));
      for (const key of keys) {
        const docs = m.map.get(key);
        if (!docs) continue;
        for (const doc of docs) {
          if (seen.has(doc)) continue;
          seen.add(doc);
          const indicator = getPath(doc, this.index.rule.threatIndicatorPath);
          enrichments.push({
            indicator: indicator ?? null,
            matched: {
              atomic: key.split("\u0000")[0],
              field: m.entries[0].fieldName,
              index: "quarry-threat-intel",
              type: "indicator_match_rule",
            },
            ...(getPath(doc, "threat.feed") !== undefined ? { feed: getPath(doc, "threat.feed")! } : {}),
          });
        }
      }
    }
    if (enrichments.length === 0) return;
    this.pass
      .collector(this.c)
      .add(
        { kind: "event", event, time: this.pass.currentTime, enrichments },
        this.pass.ruleTime(this.c, event),
        `${event.index}\u0000${event.id}`,
      );
  }
  finish(): void {}
}

function iocEnrichment(indicator: Indicator, field: string, value: string): JsonObject {
  const ind: JsonObject = { type: indicator.type, value: indicator.value, original: indicator.original };
  if (indicator.label) ind.description = indicator.label;
  if (indicator.source) ind.provider = indicator.source;
  const meta = Object.entries(indicator.metadata);
  if (meta.length > 0) ind.metadata = Object.fromEntries(meta);
  ind.list = indicator.list;
  ind.origin =
    indicator.origin.line !== undefined
      ? `${indicator.origin.file}:${indicator.origin.line}`
      : indicator.origin.file;
  return {
    indicator: ind,
    matched: { atomic: value, field, type: "indicator_match_rule", index: indicator.list },
  };
}

/** A rendered diagnostic for a rule whose query did not compile (for lint and hunt messages). */
export function renderRuleDiagnostic(report: RuleReport): string | undefined {
  const d = report.diagnostic;
  if (!d) return undefined;
  return renderDiagnostic(d.diagnostic, report.rule.query, {
    origin: report.rule.origin.file,
    firstLine: report.rule.queryLine,
  });
}

export { formatTimestamp };

function once<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}

/**
 * The literals an IOC list's matches must contain: domains (the matcher also matches subdomains, which
 * contain the name), hashes and URL hosts, ASCII-case-insensitively. IPs, CIDRs and punycode names (an
 * event may hold the Unicode form) give no requirement, so the list then has no prefilter.
 */
function prefilterForIndicators(indicators: readonly Indicator[]): LinePrefilter | undefined {
  const literals: string[] = [];
  for (const indicator of indicators) {
    switch (indicator.type) {
      case "domain":
        if (indicator.value.includes("xn--")) return undefined;
        literals.push(indicator.value);
        break;
      case "md5":
      case "sha1":
      case "sha256":
        literals.push(indicator.value);
        break;
      case "url": {
        // `host[:port]/path?query`: whatever field the URL is matched in, its host is written there.
        const host = indicator.value.split(/[/:?#]/)[0];
        // IP hosts have other spellings (0x7f.1); punycode hosts may be written in Unicode.
        if (host === "" || host.includes("xn--") || !/[a-z]/.test(host.split(".").pop() ?? ""))
          return undefined;
        literals.push(host);
        break;
      }
      default:
        return undefined;
    }
  }
  return literals.length > 0 ? prefilterForLiterals(literals, { caseInsensitive: true }) : undefined;
}
