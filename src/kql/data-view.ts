/**
 * Kibana data views (index patterns): the field list Kibana's KQL translator consults to pick a query per
 * field (term for keyword, range for dates, nested wrappers, scripts for scripted fields). Built from a
 * Kibana field list as given, or from an Elasticsearch mapping / the ECS table via a `Schema`.
 */

import { QuarryError, type Span } from "../diagnostics/index.js";
import type { Schema } from "../schema/index.js";
import { literal, spanOf, type ValueNode } from "./ast.js";
import { fieldText, wildcardTest } from "./print.js";

export interface KibanaDataViewField {
  readonly name: string;
  /** Kibana field type: string, number, date, boolean, ip, geo_point, ... */
  readonly type: string;
  /** Elasticsearch types behind the field (`["keyword"]`, `["text"]`, ...). */
  readonly esTypes?: readonly string[];
  readonly scripted?: boolean;
  readonly script?: string;
  readonly lang?: string;
  readonly subType?: {
    readonly nested?: { readonly path: string };
    readonly multi?: { readonly parent: string };
  };
}

export interface KibanaDataView {
  readonly title?: string;
  readonly fields: readonly KibanaDataViewField[];
}

/** Kibana's field type for an Elasticsearch type. */
export function kibanaFieldType(esType: string): string {
  switch (esType) {
    case "text":
    case "keyword":
    case "match_only_text":
    case "constant_keyword":
    case "wildcard":
    case "version":
    case "flattened":
    case "annotated_text":
    case "search_as_you_type":
    case "string":
      return "string";
    case "long":
    case "integer":
    case "short":
    case "byte":
    case "double":
    case "float":
    case "half_float":
    case "scaled_float":
    case "unsigned_long":
    case "token_count":
      return "number";
    case "date":
    case "date_nanos":
      return "date";
    case "boolean":
    case "ip":
    case "geo_point":
    case "geo_shape":
    case "murmur3":
    case "histogram":
      return esType;
    default:
      return "unknown";
  }
}

const fromSchemaCache = new WeakMap<Schema, KibanaDataView>();

/**
 * The data view Kibana would build over an index with this mapping: one field per leaf and per
 * multi-field (aliases take their target's type; objects and nested parents are not fields), with
 * `subType.nested` on fields under a nested object.
 */
export function dataViewFromSchema(schema: Schema): KibanaDataView {
  const cached = fromSchemaCache.get(schema);
  if (cached) return cached;
  const names = schema.fieldNames();
  const nestedPaths = new Set<string>();
  for (const name of names) if (schema.lookup(name)?.type === "nested") nestedPaths.add(name);
  const fields: KibanaDataViewField[] = [];
  for (const name of names) {
    const info = schema.lookup(name);
    if (!info || info.type === "object" || info.type === "nested" || info.type === "alias") continue;
    const nested = innermostNestedPath(name, nestedPaths);
    const parent = multiFieldParent(schema, name);
    fields.push({
      name,
      type: kibanaFieldType(info.type),
      esTypes: [info.type],
      scripted: false,
      ...(nested || parent
        ? {
            subType: {
              ...(nested ? { nested: { path: nested } } : {}),
              ...(parent ? { multi: { parent } } : {}),
            },
          }
        : {}),
    });
  }
  const view: KibanaDataView = { fields };
  fromSchemaCache.set(schema, view);
  return view;
}

function innermostNestedPath(name: string, nestedPaths: ReadonlySet<string>): string | undefined {
  if (nestedPaths.size === 0) return undefined;
  let dot = name.lastIndexOf(".");
  while (dot > 0) {
    const prefix = name.slice(0, dot);
    if (nestedPaths.has(prefix)) return prefix;
    dot = name.lastIndexOf(".", dot - 1);
  }
  return undefined;
}

/** The parent field when `name` is a multi-field (`message.text` under `message`). */
export function multiFieldParent(schema: Schema, name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const parent = name.slice(0, dot);
  const sub = schema.lookup(parent)?.subFields?.[name.slice(dot + 1)];
  return sub ? parent : undefined;
}

interface DataViewIndex {
  readonly byName: ReadonlyMap<string, KibanaDataViewField>;
}

const indexCache = new WeakMap<KibanaDataView, DataViewIndex>();

function indexOf(view: KibanaDataView): DataViewIndex {
  let index = indexCache.get(view);
  if (!index) {
    const byName = new Map<string, KibanaDataViewField>();
    for (const field of view.fields) if (!byName.has(field.name)) byName.set(field.name, field);
    index = { byName };
    indexCache.set(view, index);
  }
  return index;
}

/**
 * Kibana's `getFields`: the data-view fields a field node names. A literal names at most one field
 * (exactly, so a quoted `foo*` only matches a field called `foo*`); a wildcard matches every field whose
 * whole name fits, in data-view order.
 */
export function getFields(node: ValueNode, view: KibanaDataView | undefined): KibanaDataViewField[] {
  if (!view) return [];
  if (node.type === "literal") {
    const field = indexOf(view).byName.get(`${node.value}`);
    return field ? [field] : [];
  }
  return view.fields.filter((field) => wildcardTest(node, field.name));
}

/** The nested path of a data-view field, if it lives in a nested object. */
export function nestedPathOf(field: KibanaDataViewField): string | undefined {
  return field.subType?.nested?.path;
}

/**
 * Kibana's `getFullFieldNameNode`: prefix the enclosing nested path and, when a data view is given,
 * check that nested fields are queried inside the right nested group (wildcard names outside a group
 * skip the check: the translator wraps them itself).
 *
 * @throws QuarryError KQL010 with Kibana's message
 */
export function getFullFieldNameNode(
  node: ValueNode,
  view: KibanaDataView | undefined,
  nestedPath?: string,
): ValueNode {
  const full: ValueNode = nestedPath
    ? node.type === "wildcard"
      ? { type: "wildcard", value: `${nestedPath}.${node.value}` }
      : literal(`${nestedPath}.${node.value}`, node.isQuoted)
    : node;
  if (!view || (full.type === "wildcard" && !nestedPath)) return full;
  const errors: string[] = [];
  for (const field of getFields(full, view)) {
    const fieldPath = nestedPathOf(field);
    if (nestedPath && !fieldPath) {
      errors.push(
        `${field.name} is not a nested field but is in nested group "${nestedPath}" in the KQL expression.`,
      );
    } else if (fieldPath && !nestedPath) {
      errors.push(`${field.name} is a nested field, but is not in a nested group in the KQL expression.`);
    } else if (fieldPath !== nestedPath) {
      errors.push(
        `Nested field ${field.name} is being queried with the incorrect nested path. The correct path is ${fieldPath}.`,
      );
    }
  }
  if (errors.length > 0) throw translationError(errors.join("\n"), spanOf(node));
  return full;
}

/** A translation-time error: Kibana's text as the title, pointing at the node when it has a span. */
export function translationError(message: string, span: Span | undefined, code = "KQL010"): QuarryError {
  return new QuarryError({
    code,
    severity: "error",
    title: message,
    labels: span ? [{ span, text: "", primary: true }] : [],
  });
}

/** The field name Elasticsearch receives when the data view does not know the field. */
export function rawFieldName(node: ValueNode): string {
  return fieldText(node);
}
