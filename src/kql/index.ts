/**
 * KQL (Kibana Query Language): Kibana's grammar and node JSON, its translation to Query DSL, and an
 * evaluator that answers, per event, what Elasticsearch would answer to that DSL.
 */

export { analyze } from "./analyzer.js";
export type {
  AndNode,
  ExistsNode,
  FunctionNode,
  IsNode,
  KqlNode,
  KqlQuery,
  LiteralNode,
  LiteralValue,
  NestedNode,
  NotNode,
  OrNode,
  RangeNode,
  RangeOperator,
  ValueNode,
  WildcardNode,
} from "./ast.js";
export { KQL_WILDCARD_SYMBOL, spanOf, wildcardFromPattern } from "./ast.js";
export { type CompileKqlOptions, compileKql, compileKqlAst } from "./compile.js";
export {
  dataViewFromSchema,
  getFields,
  getFullFieldNameNode,
  type KibanaDataView,
  type KibanaDataViewField,
} from "./data-view.js";
export { KqlSyntaxError, MAX_DEPTH, type ParseOptions, parseKql, parseKqlLiteral } from "./parser.js";
export {
  escapeKuery,
  escapeQuotes,
  getKqlFieldNames,
  isKqlFreeText,
  kqlFieldPaths,
  toKqlExpression,
  wildcardHasLeading,
  wildcardIsLone,
  wildcardTest,
  wildcardToElasticsearchQuery,
  wildcardToQueryStringQuery,
} from "./print.js";
export { buildQueryFromKuery, type ToDslOptions, toDsl } from "./to-dsl.js";
