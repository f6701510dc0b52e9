/**
 * Hash indicators for `quarry scan`: IOC lists (the pack's and `--iocs`) loaded with the same readers as
 * `hunt` (src/intel), indexed once, and matched against each file's md5, sha1 and sha256.
 */
import {
  buildIndicatorIndex,
  type Indicator,
  type IndicatorIndex,
  type IndicatorList,
  loadIndicatorFile,
} from "../intel/index.js";
import type { FileHashes } from "./hash.js";

/** One indicator a file matched, as it appears in the output record. */
export interface IndicatorHit {
  readonly value: string;
  readonly type: string;
  readonly label: string | null;
  readonly source: string | null;
}

export interface HashIndicators {
  /** Hash indicators loaded (other types in the lists are not used by scan). */
  readonly hashCount: number;
  readonly lists: readonly IndicatorList[];
  match(hashes: FileHashes): IndicatorHit[];
}

const HASH_TYPES = new Set(["md5", "sha1", "sha256"]);

export async function loadHashIndicators(files: readonly string[]): Promise<HashIndicators> {
  const lists: IndicatorList[] = [];
  for (const file of files) lists.push(await loadIndicatorFile(file));
  return indexHashIndicators(lists);
}

export function indexHashIndicators(lists: readonly IndicatorList[]): HashIndicators {
  const hashOnly: Indicator[] = [];
  for (const list of lists) for (const i of list.indicators) if (HASH_TYPES.has(i.type)) hashOnly.push(i);
  const index: IndicatorIndex = buildIndicatorIndex(hashOnly);
  return {
    hashCount: hashOnly.length,
    lists,
    match(hashes) {
      const out: IndicatorHit[] = [];
      const seen = new Set<Indicator>();
      for (const digest of [hashes.md5, hashes.sha1, hashes.sha256]) {
        for (const i of index.matchHash(digest)) {
          if (seen.has(i)) continue;
          seen.add(i);
          out.push({ value: i.value, type: i.type, label: i.label ?? null, source: i.source ?? null });
        }
      }
      return out;
    },
  };
}
