/** `quarry kql dsl QUERY`: print the Query DSL Kibana would send for a KQL query (pretty JSON). */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { isQuarryError, renderDiagnostic } from "../../diagnostics/index.js";
import { dataViewFromSchema, type KibanaDataView, toDsl } from "../../kql/index.js";
import { ecsSchema, layeredSchema, parseMapping } from "../../schema/index.js";

interface KqlDslFlags {
  mapping?: string;
  dataView?: string;
  dateFormatTz?: string;
}

/** A data view from `--data-view FILE` (a Kibana field list), `--mapping FILE` over ECS, or ECS alone. */
function loadDataView(flags: KqlDslFlags): KibanaDataView {
  if (flags.dataView) {
    const parsed = JSON.parse(readFileSync(flags.dataView, "utf8")) as unknown;
    const fields = Array.isArray(parsed) ? parsed : (parsed as { fields?: unknown }).fields;
    if (!Array.isArray(fields))
      throw new Error(`--data-view ${flags.dataView}: expected a field list or {fields: [...]}`);
    return { fields: fields as KibanaDataView["fields"] };
  }
  if (flags.mapping)
    return dataViewFromSchema(layeredSchema(parseMapping(readFileSync(flags.mapping, "utf8")), ecsSchema()));
  return dataViewFromSchema(ecsSchema());
}

export function registerKqlCommand(program: Command): void {
  const kql = program.command("kql").description("KQL tools (Kibana Query Language)");
  kql
    .command("dsl")
    .description("print the Elasticsearch Query DSL Kibana sends for a KQL query")
    .argument("<query>", "the KQL query")
    .option("--mapping <file>", "an Elasticsearch mapping for field types (layered over ECS)")
    .option("--data-view <file>", "a Kibana data view field list (JSON) instead of a mapping")
    .option("--date-format-tz <tz>", "Kibana's dateFormat:tz (IANA zone, or Browser)")
    .action((query: string, flags: KqlDslFlags) => {
      let dataView: KibanaDataView;
      try {
        dataView = loadDataView(flags);
      } catch (error) {
        process.stderr.write(`quarry: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const dsl = toDsl(query, { dataView, dateFormatTZ: flags.dateFormatTz });
        process.stdout.write(
          `${JSON.stringify(dsl, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`,
        );
      } catch (error) {
        if (!isQuarryError(error)) throw error;
        const color = process.stderr.isTTY === true && !process.env.NO_COLOR;
        process.stderr.write(
          `${renderDiagnostic(error.diagnostic, error.sourceText ?? query, { origin: "<query>", color })}\n`,
        );
        process.exitCode = 2;
      }
    });
}
