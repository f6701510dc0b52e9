/**
 * `--exclude` globs, matched in linear time. Same syntax as the event readers' globs (src/events):
 * `*` any run of characters except `/`, `**` any run including `/` (`**\/` also matches nothing), `?` one
 * character except `/`, `[abc]` / `[a-z]` / `[!abc]` a class. A glob matches a path when it matches the
 * whole path or its last component.
 *
 * Why not a RegExp: paths on a collected disk are attacker-chosen, and a backtracking engine on `*a*a*a*b`
 * is polynomial. Here the glob is compiled to a list of tokens and simulated as an NFA with a set of
 * states, so a match costs O(path length x glob length) whatever the input.
 */

type GlobToken =
  | { readonly kind: "char"; readonly ch: string }
  | { readonly kind: "any" }
  | { readonly kind: "star" }
  | { readonly kind: "globstar" }
  | {
      readonly kind: "class";
      readonly negated: boolean;
      readonly ranges: readonly (readonly [string, string])[];
    };

export interface CompiledGlob {
  readonly source: string;
  matches(path: string): boolean;
}

/** A token meaning "a `/` or nothing" (after `**`); NUL never occurs in a path. */
const OPTIONAL_SLASH = "\u0000optional-slash";

function tokenize(glob: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        // `**/` may match zero directories: `a/**/b` matches `a/b`.
        if (glob[i + 1] === "/") {
          i++;
          tokens.push({ kind: "globstar" }, { kind: "char", ch: OPTIONAL_SLASH });
        } else tokens.push({ kind: "globstar" });
      } else tokens.push({ kind: "star" });
    } else if (c === "?") tokens.push({ kind: "any" });
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        tokens.push({ kind: "char", ch: "[" });
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith("!") || body.startsWith("^");
      if (negated) body = body.slice(1);
      const ranges: [string, string][] = [];
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === "-" && k + 2 < body.length) {
          ranges.push([body[k], body[k + 2]]);
          k += 2;
        } else ranges.push([body[k], body[k]]);
      }
      tokens.push({ kind: "class", negated, ranges });
      i = close;
    } else if (c === "\\" && i + 1 < glob.length) {
      tokens.push({ kind: "char", ch: glob[++i] });
    } else tokens.push({ kind: "char", ch: c });
  }
  return tokens;
}

function classMatches(token: Extract<GlobToken, { kind: "class" }>, ch: string): boolean {
  let inside = false;
  for (const [lo, hi] of token.ranges) {
    if (ch >= lo && ch <= hi) {
      inside = true;
      break;
    }
  }
  return ch !== "/" && inside !== token.negated;
}

/** Simulate the token NFA over `text`; states are token indexes (m = tokens.length means done). */
function run(tokens: readonly GlobToken[], text: string): boolean {
  const m = tokens.length;
  let current = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  // Epsilon closure: stars and globstars may match nothing; the optional slash may be skipped.
  const close = (set: Uint8Array) => {
    for (let s = 0; s < m; s++) {
      if (!set[s]) continue;
      const t = tokens[s];
      if (t.kind === "star" || t.kind === "globstar" || (t.kind === "char" && t.ch === OPTIONAL_SLASH))
        set[s + 1] = 1;
    }
  };
  current[0] = 1;
  close(current);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    next.fill(0);
    let any = false;
    for (let s = 0; s < m; s++) {
      if (!current[s]) continue;
      const t = tokens[s];
      switch (t.kind) {
        case "char":
          if (t.ch === OPTIONAL_SLASH ? ch === "/" : t.ch === ch) {
            next[s + 1] = 1;
            any = true;
          }
          break;
        case "any":
          if (ch !== "/") {
            next[s + 1] = 1;
            any = true;
          }
          break;
        case "star":
          if (ch !== "/") {
            next[s] = 1;
            any = true;
          }
          break;
        case "globstar":
          next[s] = 1;
          any = true;
          break;
        case "class":
          if (classMatches(t, ch)) {
            next[s + 1] = 1;
            any = true;
          }
          break;
        default: {
          const unreachable: never = t;
          throw new Error(`unknown glob token ${String(unreachable)}`);
        }
      }
    }
    if (!any) return false;
    close(next);
    [current, next] = [next, current];
  }
  return current[m] === 1;
}

export function compileGlob(glob: string): CompiledGlob {
  const tokens = tokenize(glob);
  return {
    source: glob,
    matches(path: string): boolean {
      const normalized = path.replace(/\\/g, "/");
      const base = normalized.slice(normalized.lastIndexOf("/") + 1);
      return run(tokens, base) || run(tokens, normalized);
    },
  };
}
