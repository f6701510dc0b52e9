/** A hunt's spec compiled in a worker (rule shards, or a prefiltering reader for a hunt). */
import { Hunt, type HuntOptions, huntOptionsFor, loadRuleSet, type RuleSet } from "../rules/index.js";
import type { HuntSpec } from "./protocol.js";
import { type Relevance, specSchema } from "./relevance.js";

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
