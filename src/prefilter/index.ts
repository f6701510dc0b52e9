/**
 * Literal prefilters: from a query, what a line of NDJSON must contain for the query to possibly need it,
 * tested on raw bytes before any JSON parsing. Conservative by construction: a line a query needs is never
 * rejected (see docs/performance.md, "Literal prefilters").
 *
 * @example
 *   const pf = prefilterForEql(compileEql('network where dns.question.name : "raw.githubusercontent.com"').query);
 *   pf?.description // all(contains "\"network\"", contains~ "\"raw.githubusercontent.com\"") [search: ...]
 */
import type { EqlQuery } from "../eql/ast.js";
import type { KqlQuery } from "../kql/ast.js";
import type { Schema } from "../schema/index.js";
import { eqlRequirement } from "./eql.js";
import { kqlRequirement } from "./kql.js";
import { type LinePrefilter, prefilterFor } from "./line-prefilter.js";
import { containsText, someOf } from "./requirement.js";

export { type LinePrefilter, unionPrefilters } from "./line-prefilter.js";

/** The prefilter of an EQL query (every stage, `until` and missing-event stage of a sequence or sample). */
export function prefilterForEql(
  query: EqlQuery,
  options: { schema?: Schema; categoryField?: string } = {},
): LinePrefilter | undefined {
  return prefilterFor(eqlRequirement(query, options));
}

/** The prefilter of a KQL query; pass the schema and `caseInsensitive` given to compileKql. */
export function prefilterForKql(
  query: KqlQuery,
  options: { schema?: Schema; caseInsensitive?: boolean } = {},
): LinePrefilter | undefined {
  return prefilterFor(kqlRequirement(query, options));
}

/**
 * A line that may hold any of these texts inside a string value (IOC values: domains, hashes); the same
 * escape and case-folding care as query literals.
 */
export function prefilterForLiterals(
  texts: readonly string[],
  options: { caseInsensitive: boolean },
): LinePrefilter | undefined {
  if (texts.length === 0) return undefined;
  return prefilterFor(
    someOf(
      texts.map((text) =>
        containsText(text, { atStart: false, atEnd: false, caseInsensitive: options.caseInsensitive }),
      ),
    ),
  );
}
