/** Compiles a RelevanceSpec in a worker: the query's own predicate, and its literal prefilter. */
import { compileEql } from "../eql/index.js";
import type { EventRecord, LinePrefilter } from "../events/index.js";
import { compileKql, parseKql } from "../kql/index.js";
import { prefilterForEql, prefilterForKql } from "../prefilter/index.js";
import type { CompiledQuery } from "../query/index.js";
import { Hunt, type HuntOptions, huntOptionsFor, loadRuleSet, type RuleSet } from "../rules/index.js";
import { ecsSchema, layeredSchema, parseMapping, type Schema } from "../schema/index.js";
import type { HuntSpec, QuerySpec } from "./protocol.js";

export interface Relevance {
  readonly relevant: (event: EventRecord) => boolean;
  readonly prefilter: LinePrefilter | undefined;
}

export function specSchema(mappingText: string | undefined): Schema {
  return mappingText === undefined ? ecsSchema() : layeredSchema(parseMapping(mappingText), ecsSchema());
}

/**
 * A hunt's relevance in a worker: its prefilter (the union of every rule's and IOC list's literals) does the
 * filtering; every candidate goes back, since rules of every type (thresholds, new terms, sequences) decide
 * on the main thread with the whole hunt's state.
 */
export async function compileHuntRelevance(spec: HuntSpec, usePrefilter: boolean): Promise<Relevance> {
  const hunt = await huntFromSpec(spec);
  return { relevant: () => true, prefilter: usePrefilter ? hunt.linePrefilter() : undefined };
}

/** A worker's Hunt: the rule sources loaded as `quarry hunt` loads them, with the spec's schema. */
export async function huntFromSpec(
  spec: HuntSpec,
  options: Omit<HuntOptions, "rules" | "iocs" | "exceptions" | "protectedRules" | "schema"> = {},
): Promise<Hunt> {
  return huntFromRuleSet(await ruleSetOf(spec), spec, options);
}

/** The rule set a HuntSpec names, loaded (not compiled yet). */
export function ruleSetOf(spec: HuntSpec): Promise<RuleSet> {
  return loadRuleSet({ rules: spec.rules, iocs: spec.iocs, exceptions: spec.exceptions });
}

/** A Hunt compiled from a rule set loaded by `ruleSetOf`. */
export function huntFromRuleSet(
  set: RuleSet,
  spec: HuntSpec,
  options: Omit<HuntOptions, "rules" | "iocs" | "exceptions" | "protectedRules" | "schema"> = {},
): Hunt {
  return new Hunt(
    huntOptionsFor(set, {
      schema: specSchema(spec.mappingText),
      timestampField: spec.timestampField,
      ...options,
    }),
  );
}

export function compileRelevance(spec: QuerySpec, usePrefilter: boolean): Relevance {
  const schema = specSchema(spec.mappingText);
  if (spec.language === "eql") {
    const query = compileEql(spec.text, {
      schema,
      timestampField: spec.timestampField,
      tiebreakerField: spec.tiebreakerField,
      categoryField: spec.categoryField,
    });
    return {
      relevant: relevanceOf(query) ?? (() => true),
      prefilter: usePrefilter
        ? prefilterForEql(query.query, { schema, categoryField: spec.categoryField })
        : undefined,
    };
  }
  const query = compileKql(spec.text, { schema });
  return {
    relevant: relevanceOf(query) ?? (() => true),
    prefilter: usePrefilter ? prefilterForKql(parseKql(spec.text), { schema }) : undefined,
  };
}

/** The literal prefilter of a query given as text (the same one the workers derive). */
export function queryPrefilter(spec: QuerySpec): LinePrefilter | undefined {
  return compileRelevance(spec, true).prefilter;
}

/** The query's conservative relevance test, if it has one worth running in a worker. */
export function relevanceOf(query: CompiledQuery): ((event: EventRecord) => boolean) | undefined {
  if (query.relevant) return query.relevant;
  if (query.shape === "event") return query.matches;
  return undefined;
}
