/**
 * Rule exceptions, as Kibana exports them (NDJSON of exception-list and item objects) and as the
 * detection-rules repository writes them (TOML with `[metadata]` and `[[exceptions]]`). An item's entries
 * must all match (AND) for the item to match; an event that matches any item of a list applied to a rule
 * produces no alert for that rule.
 */
import { readFileSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { compileField } from "../events/field-access.js";
import { parseJsonLossless } from "../events/json.js";
import type { JsonObject, JsonValue } from "../events/types.js";
import { tomlToJson } from "./load.js";
import { compileWildcard, type StringMatcher, valueText } from "./wildcard.js";

export type ExceptionOperator = "included" | "excluded";

export type ExceptionEntry =
  | {
      readonly type: "match";
      readonly field: string;
      readonly operator: ExceptionOperator;
      readonly value: string;
    }
  | {
      readonly type: "match_any";
      readonly field: string;
      readonly operator: ExceptionOperator;
      readonly value: readonly string[];
    }
  | {
      readonly type: "wildcard";
      readonly field: string;
      readonly operator: ExceptionOperator;
      readonly value: string;
    }
  | { readonly type: "exists"; readonly field: string; readonly operator: ExceptionOperator }
  | { readonly type: "nested"; readonly field: string; readonly entries: readonly ExceptionEntry[] };

export interface ExceptionItem {
  readonly itemId: string;
  readonly name: string;
  readonly entries: readonly ExceptionEntry[];
  /** 1-based line of the item in its file (NDJSON), when known. */
  readonly line?: number;
}

export interface ExceptionList {
  readonly listId: string;
  readonly name: string;
  /** Kibana's list type: detection, rule_default, endpoint, ... */
  readonly type: string;
  readonly file: string;
  readonly items: readonly ExceptionItem[];
  /** Rules the file says the list is for (detection-rules TOML `metadata.rule_ids`); undefined = none named. */
  readonly ruleIds?: readonly string[];
}

export interface ExceptionLoadIssue {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

export interface ExceptionFileResult {
  readonly lists: ExceptionList[];
  readonly errors: ExceptionLoadIssue[];
}

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

class EntryError extends Error {}

function parseOperator(v: JsonValue | undefined): ExceptionOperator {
  if (v === undefined || v === null || v === "included") return "included";
  if (v === "excluded") return "excluded";
  throw new EntryError(`operator must be "included" or "excluded" (got ${JSON.stringify(v)})`);
}

/** Read and check one entry (recursively for `nested`). */
export function parseEntry(raw: JsonValue, depth = 0): ExceptionEntry {
  if (!isObject(raw)) throw new EntryError("an entry must be an object");
  const field = raw.field;
  if (typeof field !== "string" || field === "") throw new EntryError("an entry needs a field");
  const type = raw.type;
  switch (type) {
    case "match":
    case "wildcard": {
      const value = valueText(raw.value ?? null);
      if (value === undefined) throw new EntryError(`${type} entry on ${field} needs a value`);
      return { type, field, operator: parseOperator(raw.operator), value };
    }
    case "match_any": {
      if (!Array.isArray(raw.value))
        throw new EntryError(`match_any entry on ${field} needs a list of values`);
      const value = raw.value.map(valueText).filter((v): v is string => v !== undefined);
      return { type, field, operator: parseOperator(raw.operator), value };
    }
    case "exists":
      return { type, field, operator: parseOperator(raw.operator) };
    case "nested": {
      if (depth > 0) throw new EntryError("nested entries cannot contain nested entries");
      if (!Array.isArray(raw.entries) || raw.entries.length === 0)
        throw new EntryError(`nested entry on ${field} needs entries`);
      return { type, field, entries: raw.entries.map((e) => parseEntry(e, depth + 1)) };
    }
    case "list":
      throw new EntryError(
        `entry on ${field} refers to a value list (type "list"); value lists live in Kibana and are not exported with exceptions`,
      );
    default:
      throw new EntryError(`entry on ${field} has unknown type ${JSON.stringify(type)}`);
  }
}

function parseItem(raw: JsonObject, line?: number): ExceptionItem {
  if (!Array.isArray(raw.entries) || raw.entries.length === 0)
    throw new EntryError("an exception item needs entries");
  return {
    itemId: typeof raw.item_id === "string" ? raw.item_id : typeof raw.id === "string" ? raw.id : "",
    name: typeof raw.name === "string" ? raw.name : "",
    entries: raw.entries.map((e) => parseEntry(e)),
    line,
  };
}

/** Kibana's export: NDJSON of list objects, item objects and a final export summary. */
export function parseKibanaExceptions(text: string, file: string): ExceptionFileResult {
  const errors: ExceptionLoadIssue[] = [];
  const lists = new Map<string, { listId: string; name: string; type: string; items: ExceptionItem[] }>();
  const list = (listId: string) => {
    let l = lists.get(listId);
    if (!l) {
      l = { listId, name: listId, type: "detection", items: [] };
      lists.set(listId, l);
    }
    return l;
  };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineText = lines[i].replace(/\r$/, "").replace(/^\uFEFF/, "");
    if (lineText.trim() === "") continue;
    let obj: JsonValue;
    try {
      obj = parseJsonLossless(lineText);
    } catch (error) {
      errors.push({ file, line: i + 1, message: `not JSON: ${(error as Error).message}` });
      continue;
    }
    if (!isObject(obj)) {
      errors.push({ file, line: i + 1, message: "not a JSON object" });
      continue;
    }
    if ("exported_exception_list_count" in obj || "exported_count" in obj) continue;
    const listId = typeof obj.list_id === "string" ? obj.list_id : undefined;
    if (!listId) {
      errors.push({ file, line: i + 1, message: "neither an exception list nor an item (no list_id)" });
      continue;
    }
    if (Array.isArray(obj.entries) || "item_id" in obj) {
      try {
        list(listId).items.push(parseItem(obj, i + 1));
      } catch (error) {
        if (!(error instanceof EntryError)) throw error;
        errors.push({ file, line: i + 1, message: `exception item skipped: ${error.message}` });
      }
    } else {
      const l = list(listId);
      if (typeof obj.name === "string") l.name = obj.name;
      if (typeof obj.type === "string") l.type = obj.type;
    }
  }
  return { lists: [...lists.values()].map((l) => ({ ...l, file })), errors };
}

/**
 * The detection-rules exception TOML: `[metadata]` (list_name, rule_ids, rule_names, ...) and
 * `[[exceptions]]` items with `[[exceptions.entries]]` and an optional `[exceptions.container]` naming the
 * list (list_id, name, type).
 */
export function parseTomlExceptions(text: string, file: string): ExceptionFileResult {
  let doc: JsonObject;
  try {
    doc = tomlToJson(parse(text.replace(/^\uFEFF/, ""), { maxDepth: 64 })) as JsonObject;
  } catch (error) {
    if (error instanceof TomlError)
      return {
        lists: [],
        errors: [
          {
            file,
            line: error.line,
            column: error.column,
            message: `not valid TOML: ${error.message.split("\n")[0].replace(/^Invalid TOML document: /, "")}`,
          },
        ],
      };
    throw error;
  }
  const errors: ExceptionLoadIssue[] = [];
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const rawItems = Array.isArray(doc.exceptions)
    ? doc.exceptions
    : isObject(doc.exceptions)
      ? [doc.exceptions]
      : [];
  if (rawItems.length === 0) errors.push({ file, message: "no [[exceptions]] items: not an exception file" });
  const ruleIds = Array.isArray(metadata.rule_ids)
    ? metadata.rule_ids.filter((x): x is string => typeof x === "string")
    : undefined;
  const byList = new Map<string, { listId: string; name: string; type: string; items: ExceptionItem[] }>();
  const defaultName = typeof metadata.list_name === "string" ? metadata.list_name : file;
  rawItems.forEach((raw, n) => {
    if (!isObject(raw)) {
      errors.push({ file, message: `exceptions[${n}] is not a table` });
      return;
    }
    const container = isObject(raw.container) ? raw.container : isObject(doc.container) ? doc.container : {};
    const listId = typeof container.list_id === "string" ? container.list_id : defaultName;
    let l = byList.get(listId);
    if (!l) {
      l = {
        listId,
        name: typeof container.name === "string" ? container.name : defaultName,
        type: typeof container.type === "string" ? container.type : "detection",
        items: [],
      };
      byList.set(listId, l);
    }
    try {
      l.items.push(parseItem(raw));
    } catch (error) {
      if (!(error instanceof EntryError)) throw error;
      errors.push({ file, message: `exceptions[${n}] skipped: ${error.message}` });
    }
  });
  return {
    lists: [...byList.values()].map((l) => ({
      ...l,
      file,
      ...(ruleIds && ruleIds.length > 0 ? { ruleIds } : {}),
    })),
    errors,
  };
}

/** Load an exception file, telling the two formats apart by content (a TOML file never starts with `{`). */
export function loadExceptionFile(path: string): ExceptionFileResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { lists: [], errors: [{ file: path, message: `cannot read: ${(error as Error).message}` }] };
  }
  const first = text.replace(/^\uFEFF/, "").trimStart();
  return first.startsWith("{") ? parseKibanaExceptions(text, path) : parseTomlExceptions(text, path);
}

// ---------------------------------------------------------------------------------------------------
// Matching

export type ExceptionPredicate = (doc: JsonObject) => boolean;

function anyText(values: readonly JsonValue[], test: StringMatcher): boolean {
  for (const v of values) {
    const t = valueText(v);
    if (t !== undefined && test(t)) return true;
  }
  return false;
}

/**
 * Compile one entry. `literalBackslash`: Elastic Endpoint exception lists take values literally (only `*`
 * and `?` are wildcards); detection-rule exceptions use backslash escapes (`\\\\` is one backslash), as
 * Elastic's documentation on exception value syntax states.
 */
function compileEntry(entry: ExceptionEntry, literalBackslash: boolean): ExceptionPredicate {
  switch (entry.type) {
    case "match":
    case "match_any":
    case "wildcard": {
      const getter = compileField(entry.field);
      let test: StringMatcher;
      if (entry.type === "match") {
        const want = entry.value;
        test = (t) => t === want;
      } else if (entry.type === "match_any") {
        const set = new Set(entry.value);
        test = (t) => set.has(t);
      } else test = compileWildcard(literalBackslash ? entry.value.replace(/\\/g, "\\\\") : entry.value);
      if (entry.operator === "included") return (doc) => anyText(getter(doc), test);
      // Excluded: Kibana negates the clause, so a missing field also satisfies it.
      return (doc) => !anyText(getter(doc), test);
    }
    case "exists": {
      const getter = compileField(entry.field);
      return entry.operator === "included"
        ? (doc) => getter(doc).length > 0
        : (doc) => getter(doc).length === 0;
    }
    case "nested": {
      const getter = compileField(entry.field);
      const inner = entries(entry.entries, literalBackslash);
      return (doc) => {
        for (const element of getter(doc)) if (isObject(element) && inner(element)) return true;
        return false;
      };
    }
    default: {
      const never: never = entry;
      throw new Error(`unknown entry ${JSON.stringify(never)}`);
    }
  }
}

function entries(list: readonly ExceptionEntry[], literalBackslash: boolean): ExceptionPredicate {
  const parts = list.map((e) => compileEntry(e, literalBackslash));
  return (doc) => {
    for (const p of parts) if (!p(doc)) return false;
    return true;
  };
}

/** True when the document matches any item of any of the lists (the alert is suppressed). */
export function compileExceptionLists(lists: readonly ExceptionList[]): ExceptionPredicate | undefined {
  const items = lists.flatMap((l) => l.items.map((i) => entries(i.entries, l.type === "endpoint")));
  if (items.length === 0) return undefined;
  return (doc) => {
    for (const p of items) if (p(doc)) return true;
    return false;
  };
}

export interface ProtectedRule {
  readonly ruleId: string;
  readonly reason: string;
}

export interface ExceptionRefusal {
  readonly ruleId: string;
  readonly ruleName: string;
  readonly listId: string;
  readonly listName: string;
  readonly file: string;
  readonly reason: string;
  /** True when `--force-exceptions` applied it anyway. */
  readonly forced: boolean;
}

export function describeRefusal(r: ExceptionRefusal): string {
  return r.forced
    ? `exception list "${r.listName}" (${r.file}) applied to protected rule "${r.ruleName}" because of --force-exceptions (protected: ${r.reason})`
    : `exception list "${r.listName}" (${r.file}) not applied to rule "${r.ruleName}": the rule is protected: ${r.reason} (use --force-exceptions to apply it anyway)`;
}

export interface ExceptionPlan {
  /** rule_id -> the lists applied to it. */
  readonly byRule: ReadonlyMap<string, readonly ExceptionList[]>;
  readonly refusals: readonly ExceptionRefusal[];
  /** Lists applied to every rule because no loaded rule references them and they name no rules. */
  readonly global: readonly ExceptionList[];
}

/**
 * Decide which lists apply to which rules, as Kibana attaches them: a rule's `exceptions_list` names list
 * ids; a detection-rules exception file names rule ids in its metadata. A list that neither a loaded rule
 * references nor names any rule applies to all rules (the user loaded it for this hunt). Lists are never
 * applied to a protected rule unless `force`.
 */
export function planExceptions(
  rules: readonly {
    readonly ruleId: string;
    readonly name: string;
    readonly exceptionsList: readonly { readonly listId: string }[];
  }[],
  lists: readonly ExceptionList[],
  protectedRules: ReadonlyMap<string, string>,
  force: boolean,
): ExceptionPlan {
  const byRule = new Map<string, ExceptionList[]>();
  const refusals: ExceptionRefusal[] = [];
  const referenced = new Set(rules.flatMap((r) => r.exceptionsList.map((e) => e.listId)));
  const global = lists.filter((l) => !l.ruleIds && !referenced.has(l.listId));
  for (const rule of rules) {
    const applies = lists.filter(
      (l) =>
        global.includes(l) ||
        l.ruleIds?.includes(rule.ruleId) ||
        rule.exceptionsList.some((e) => e.listId === l.listId),
    );
    if (applies.length === 0) continue;
    const reason = protectedRules.get(rule.ruleId);
    const kept: ExceptionList[] = [];
    for (const l of applies) {
      if (reason !== undefined) {
        refusals.push({
          ruleId: rule.ruleId,
          ruleName: rule.name,
          listId: l.listId,
          listName: l.name,
          file: l.file,
          reason,
          forced: force,
        });
        if (!force) continue;
      }
      kept.push(l);
    }
    if (kept.length > 0) byRule.set(rule.ruleId, kept);
  }
  return { byRule, refusals, global };
}
