/**
 * What a KQL query requires of a line. Mirrors src/kql/compile.ts's choices, always on the weaker side:
 * - a field mapped exactly `keyword` gets Kibana's term / wildcard query: the value (or the literal
 *   pieces between `*`) exactly, or ignoring case under the `caseInsensitive` option;
 * - text fields, unmapped fields and free text are analysed: some token of the value (every token of a
 *   quoted phrase) must appear in some letter case; a query_string wildcard needs its pieces in some case;
 * - numbers, dates, ips, booleans, ranges, `exists`, `not`, and query values that could be read as a
 *   number, a date, date math, an ip or a boolean (they may match a value written differently) require
 *   nothing.
 */
import { analyze } from "../kql/analyzer.js";
import { KQL_WILDCARD_SYMBOL, type KqlQuery, type ValueNode } from "../kql/ast.js";
import { parseDateMath } from "../kql/date-math.js";
import { parseIpOrCidr } from "../kql/ip.js";
import { ecsSchema, type Schema } from "../schema/index.js";
import { ANY, allOf, containsText, LOW_CARDINALITY_FIELDS, type Requirement, someOf } from "./requirement.js";

export interface KqlPrefilterOptions {
  /** Field types, as given to compileKql (default ECS). */
  readonly schema?: Schema;
  /** Kibana's `caseInsensitive` option, as given to compileKql. */
  readonly caseInsensitive?: boolean;
}

interface Context {
  readonly schema: Schema;
  readonly caseInsensitive: boolean;
  readonly nested: string | undefined;
}

export function kqlRequirement(query: KqlQuery, options: KqlPrefilterOptions = {}): Requirement {
  return node(query, {
    schema: options.schema ?? ecsSchema(),
    caseInsensitive: options.caseInsensitive === true,
    nested: undefined,
  });
}

function node(q: KqlQuery, ctx: Context): Requirement {
  switch (q.function) {
    case "and":
      return allOf(q.arguments.map((c) => node(c, ctx)));
    case "or":
      return someOf(q.arguments.map((c) => node(c, ctx)));
    case "not":
    case "exists":
    case "range":
      return ANY;
    case "nested": {
      const [path, child] = q.arguments;
      if (path.type !== "literal" || typeof path.value !== "string") return ANY;
      const full = ctx.nested ? `${ctx.nested}.${path.value}` : path.value;
      return node(child, { ...ctx, nested: full });
    }
    case "is":
      return isClause(q.arguments[0], q.arguments[1], ctx);
  }
}

function isClause(field: ValueNode, value: ValueNode, ctx: Context): Requirement {
  if (value.type === "literal" && value.value === null) return ANY;
  if (value.type === "wildcard" && value.value === KQL_WILDCARD_SYMBOL) return ANY;
  let exactKeyword = false;
  let common = false;
  // A keyword with a normalizer (`.caseless`: lowercase) compares folded values; any normalizer, to be safe.
  let foldsCase = ctx.caseInsensitive;
  if (field.type === "literal" && field.value !== null) {
    const name = ctx.nested ? `${ctx.nested}.${field.value}` : String(field.value);
    common = LOW_CARDINALITY_FIELDS.has(ctx.schema.resolveAlias(name));
    const info = ctx.schema.lookup(name);
    if (info) {
      if (info.type === "keyword") exactKeyword = true;
      else if (!TEXT_TYPES.has(info.type)) return ANY;
      if (info.normalizer !== undefined) foldsCase = true;
    }
  }
  // A wildcard field name or free text reaches fields of every type: the analysed (weakest) form.
  if (value.type === "wildcard") {
    const pieces = value.value.split(KQL_WILDCARD_SYMBOL);
    if (exactKeyword) return piecesRequirement(pieces, foldsCase, true, common);
    return someOf(
      value.value
        .split(/[ \t\n\r\u3000]+/)
        .filter((w) => w !== "")
        .map((word) =>
          word === KQL_WILDCARD_SYMBOL
            ? ANY
            : word.includes(KQL_WILDCARD_SYMBOL)
              ? piecesRequirement(word.split(KQL_WILDCARD_SYMBOL), true, false)
              : tokensRequirement(word, false),
        ),
    );
  }
  const text = typeof value.value === "string" ? value.value : String(value.value);
  if (exactKeyword) {
    return containsText(text, { atStart: true, atEnd: true, caseInsensitive: foldsCase, common });
  }
  return tokensRequirement(text, value.isQuoted, common);
}

const TEXT_TYPES = new Set(["text", "match_only_text", "annotated_text", "search_as_you_type"]);

/** Query text that a number, date, ip or boolean field (mapped or dynamic) may match in another form. */
function mayMatchTypedValue(text: string): boolean {
  const t = text.trim();
  if (t === "" || t === "true" || t === "false") return true;
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return true;
  if (parseDateMath(t, { roundUp: false, now: 0 }) !== undefined) return true;
  if (parseDateMath(t, { roundUp: true, now: 0 }) !== undefined) return true;
  return parseIpOrCidr(t) !== undefined;
}

/** Analysed matching: some token (every token of a phrase) appears in the line, in some case. */
function tokensRequirement(text: string, phrase: boolean, common = false): Requirement {
  if (mayMatchTypedValue(text)) return ANY;
  const tokens = analyze(text).map((t) =>
    containsText(t, { atStart: false, atEnd: false, caseInsensitive: true, common }),
  );
  return phrase ? allOf(tokens) : someOf(tokens);
}

/** The literal pieces of a `*` pattern (anchored at the value's ends unless `anchored` is false). */
function piecesRequirement(
  pieces: readonly string[],
  caseInsensitive: boolean,
  anchored = true,
  common = false,
): Requirement {
  if (mayMatchTypedValue(pieces.join(""))) return ANY;
  return allOf(
    pieces.map((p, i) =>
      p === ""
        ? ANY
        : containsText(p, {
            atStart: anchored && i === 0,
            atEnd: anchored && i === pieces.length - 1,
            caseInsensitive,
            common,
          }),
    ),
  );
}
