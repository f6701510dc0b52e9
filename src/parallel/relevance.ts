/** Compiles a RelevanceSpec in a worker: the query's own predicate, and its literal prefilter. */
import { compileEql } from "../eql/index.js";
import type { EventRecord, LinePrefilter } from "../events/index.js";
import { compileKql } from "../kql/index.js";
import type { CompiledQuery } from "../query/index.js";
import { ecsSchema, layeredSchema, parseMapping, type Schema } from "../schema/index.js";
import type { RelevanceSpec } from "./protocol.js";

export interface Relevance {
  readonly relevant: (event: EventRecord) => boolean;
  readonly prefilter: LinePrefilter | undefined;
}

export function specSchema(mappingText: string | undefined): Schema {
  return mappingText === undefined ? ecsSchema() : layeredSchema(parseMapping(mappingText), ecsSchema());
}

export function compileRelevance(spec: RelevanceSpec, _usePrefilter: boolean): Relevance {
  const schema = specSchema(spec.mappingText);
  const query: CompiledQuery =
    spec.language === "eql"
      ? compileEql(spec.text, {
          schema,
          timestampField: spec.timestampField,
          tiebreakerField: spec.tiebreakerField,
          categoryField: spec.categoryField,
        })
      : compileKql(spec.text, { schema });
  return { relevant: relevanceOf(query) ?? (() => true), prefilter: undefined };
}

/** The query's conservative relevance test, if it has one worth running in a worker. */
export function relevanceOf(query: CompiledQuery): ((event: EventRecord) => boolean) | undefined {
  if (query.relevant) return query.relevant;
  if (query.shape === "event") return query.matches;
  return undefined;
}
