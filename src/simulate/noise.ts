/**
 * Optional parser-testing noise (off unless asked for): a small fraction of background lines rewritten
 * into shapes real exports contain. Attack-chain lines are never touched, and no rewrite changes the order
 * of timestamps. Kinds:
 *
 * - dotted keys: the `process` object flattened into `"process.name"`-style keys (mixed with nested ones);
 * - a nanosecond-precision `@timestamp` (same instant, nine fraction digits);
 * - `@timestamp` as epoch milliseconds (a number);
 * - an integer beyond 2^53 (`event.sequence`), which a plain JSON.parse would round;
 * - non-ASCII text, raw and `\u`-escaped (including a surrogate pair);
 * - a CR before the newline (CRLF line end);
 * - a truncated (malformed) line, as log rotation or a crashed writer leaves: readers must report and skip it.
 */
import type { Random } from "./prng.js";

export type NoiseKind = "dotted" | "nanos" | "epoch" | "bigint" | "unicode" | "crlf" | "truncated";
const KINDS: readonly NoiseKind[] = ["dotted", "nanos", "epoch", "bigint", "unicode", "crlf", "truncated"];

export class Noise {
  private big = 9_007_199_254_740_993n;

  constructor(
    private readonly rate: number,
    private readonly random: Random,
  ) {}

  apply(line: string): string {
    if (this.random.float() >= this.rate) return line;
    return this.rewrite(line, KINDS[this.random.int(0, KINDS.length - 1)]);
  }

  rewrite(line: string, kind: NoiseKind): string {
    switch (kind) {
      case "dotted": {
        const doc = JSON.parse(line) as Record<string, unknown>;
        const process = doc.process;
        if (typeof process !== "object" || process === null || Array.isArray(process)) return line;
        delete doc.process;
        const nested: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(process as Record<string, unknown>)) {
          // Scalars become dotted keys at the top level; objects stay nested under a dotted prefix.
          if (typeof value === "object" && value !== null && !Array.isArray(value)) nested[key] = value;
          else doc[`process.${key}`] = value;
        }
        if (Object.keys(nested).length > 0) doc.process = nested;
        return JSON.stringify(doc);
      }
      case "nanos":
        return line.replace(/("@timestamp":"[^"]*\.\d{3})Z"/, '$1000000Z"');
      case "epoch":
        return line.replace(/"@timestamp":"([^"]+)"/, (_m, iso: string) => `"@timestamp":${Date.parse(iso)}`);
      case "bigint": {
        this.big += 1n;
        return line.replace(/"kind":"(event|alert)"/, `"kind":"$1","sequence":${this.big}`);
      }
      case "unicode":
        return `${line.slice(0, -1)},"labels":{"note":"résumé – 報告書 😀","escaped":"\\u00e9t\\u00e9 \\ud83d\\ude00"}}`;
      case "crlf":
        return `${line}\r`;
      case "truncated":
        return line.slice(0, this.random.int(1, Math.max(1, line.length - 2)));
    }
  }
}
