/**
 * Worker threads: the parallel event reader (byte-range segments, prefiltered and tested in workers) and
 * the ways a hunt uses threads (that reader, or rule shards).
 */
export { type HuntThreading, MIN_RULES_TO_SHARD, runHuntParallel, runHuntSharded } from "./hunt.js";
export type { HuntSettings, HuntSpec, QuerySpec, RelevanceSpec } from "./protocol.js";
export {
  type EventReader,
  huntReader,
  type ParallelOptions,
  readEventsParallel,
  readerFor,
  workersPay,
} from "./reader.js";
export { queryPrefilter, relevanceOf } from "./relevance.js";
