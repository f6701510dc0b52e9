/**
 * Compiles a query's RelevanceSpec in a worker: the query's own predicate, and its literal prefilter. A
 * hunt's is in hunt-spec.ts, so that a query's worker does not load the rules engine.
 */
import { compileEql } from "../eql/index.js";
import type { EventRecord, LinePrefilter } from "../events/index.js";
import { compileKql, parseKql } from "../kql/index.js";
import { prefilterForEql, prefilterForKql } from "../prefilter/index.js";
import type { CompiledQuery } from "../query/index.js";
import { ecsSchema, layeredSchema, parseMapping, type Schema } from "../schema/index.js";
import type { QuerySpec } from "./protocol.js";

export interface Relevance {
  readonly relevant: (event: EventRecord) => boolean;
  readonly prefilter: LinePrefilter | undefined;
}

export function specSchema(mappingText: string | undefined): Schema {
  return mappingText === undefined ? ecsSchema() : layeredSchema(parseMapping(mappingText), ecsSchema());
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
