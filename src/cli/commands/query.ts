/** `quarry query`: run one EQL or KQL query over events; print hits as Elasticsearch's EQL search would. */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { compileEql } from "../../eql/index.js";
import { type EventRecord, type ReadSummary, readInTimeOrder } from "../../events/index.js";
import { compileKql } from "../../kql/index.js";
import { eventHitJson, hitJson, responseJsonParts, tableHeader, tableHit } from "../../output/hits.js";
import { type QuerySpec, readerFor } from "../../parallel/index.js";
import type { CompiledQuery, QueryHit, QueryRun } from "../../query/index.js";
import { ecsSchema, layeredSchema, parseMapping, type Schema } from "../../schema/index.js";
import {
  addEventInputOptions,
  addOutputOptions,
  CliError,
  type EventInputFlags,
  ExitCode,
  finishInput,
  IssueReporter,
  openOutput,
  Progress,
  parseIntegerOption,
  resolveFormat,
} from "../common.js";

interface QueryFlags extends EventInputFlags {
  eql?: string;
  kql?: string;
  mapping?: string;
  tiebreakerField?: string;
  categoryField?: string;
  size?: number;
  sort?: boolean;
  maxState?: number;
  format?: "ndjson" | "json" | "table";
  output?: string;
}

/** `--mapping FILE` over ECS: the user's mapping wins, then ECS, then dynamic inference in the engines. */
export function loadSchema(mappingFile: string | undefined): Schema {
  if (!mappingFile) return ecsSchema();
  let text: string;
  try {
    text = readFileSync(mappingFile, "utf8");
  } catch (error) {
    throw new CliError(`cannot read --mapping ${mappingFile}: ${(error as Error).message}`, ExitCode.usage);
  }
  try {
    return layeredSchema(parseMapping(text), ecsSchema());
  } catch (error) {
    throw new CliError(
      `--mapping ${mappingFile} is not an Elasticsearch mapping: ${(error as Error).message}`,
      ExitCode.usage,
    );
  }
}

export function registerQueryCommand(program: Command): void {
  const cmd = program
    .command("query")
    .description("run an EQL or KQL query over events (NDJSON, JSON, gzip, Elasticsearch exports)")
    .argument("<input...>", "files, directories or - for stdin")
    .option("--eql <query>", "an EQL query (Elasticsearch dialect)")
    .option("--kql <query>", "a KQL query (Kibana)")
    .option(
      "--mapping <file>",
      "Elasticsearch mapping giving field types (default: ECS, then dynamic mapping)",
    )
    .option("--tiebreaker-field <field>", "EQL: field that orders events with equal timestamps")
    .option("--category-field <field>", "EQL: event category field", "event.category")
    .option("--size <n>", "maximum number of hits (default: all)", parseIntegerOption("--size", 0))
    .option("--sort", "return event hits in time order (as Elasticsearch does) instead of input order")
    .option(
      "--max-state <n>",
      "EQL: cap on a sequence's or sample's pending state (default 1000000)",
      parseIntegerOption("--max-state", 1),
    );
  addEventInputOptions(cmd);
  addOutputOptions(cmd, ["table", "ndjson", "json"]);
  cmd.action(async (inputs: string[], flags: QueryFlags) => {
    await runQuery(inputs, flags);
  });
}

/** The query as plain data (workers compile it again). */
function querySpec(flags: QueryFlags): QuerySpec {
  const mappingText = flags.mapping === undefined ? undefined : readFileSync(flags.mapping, "utf8");
  return flags.eql !== undefined
    ? {
        language: "eql",
        text: flags.eql,
        mappingText,
        timestampField: flags.timestampField,
        tiebreakerField: flags.tiebreakerField,
        categoryField: flags.categoryField,
      }
    : { language: "kql", text: flags.kql!, mappingText };
}

async function runQuery(inputs: string[], flags: QueryFlags): Promise<void> {
  if ((flags.eql === undefined) === (flags.kql === undefined)) {
    throw new CliError("give exactly one of --eql QUERY or --kql QUERY");
  }
  const schema = loadSchema(flags.mapping);
  const query: CompiledQuery =
    flags.eql !== undefined
      ? compileEql(flags.eql, {
          schema,
          timestampField: flags.timestampField,
          tiebreakerField: flags.tiebreakerField,
          categoryField: flags.categoryField,
          size: flags.size,
          maxPendingState: flags.maxState,
        })
      : compileKql(flags.kql!, { schema });
  const format = resolveFormat(
    flags.format,
    ["table", "ndjson", "json"] as const,
    flags.output !== undefined,
  );
  const out = openOutput(flags.output);
  const issues = new IssueReporter();
  const progress = new Progress();
  const readOptions = {
    include: flags.include,
    exclude: flags.exclude,
    maxLineBytes: flags.maxLineBytes,
    timestampField: flags.timestampField,
    from: flags.from,
    to: flags.to,
    onIssue: issues.onIssue,
    onBytes: (n: number) => {
      progress.bytes += n;
    },
  };
  const read = readerFor(query, querySpec(flags), {
    threads: flags.threads ?? availableParallelism(),
    adaptive: flags.threads === undefined,
    // --strict validates every line, so nothing may be skipped unparsed.
    prefilter: !flags.strict && flags.prefilter !== false,
    inputs,
  });
  const limit = flags.size ?? Number.POSITIVE_INFINITY;
  const hits: QueryHit[] = [];
  let written = 0;
  let sequenceNo = 0;
  // Event hits in input order stream straight out; everything else is collected first.
  const streaming = query.shape === "event" && !query.needsTimeOrder && !flags.sort && format !== "json";
  if (streaming && format === "table") await out.write(`${tableHeader()}\n`);
  const emit = async (batch: readonly QueryHit[]) => {
    for (const hit of batch) {
      if (written >= limit) return;
      written++;
      if (format === "ndjson") await out.write(`${hitJson(hit)}\n`);
      else await out.write(`${tableHit(hit, ++sequenceNo)}\n`);
    }
  };
  let summary: ReadSummary;
  if (query.needsTimeOrder || flags.sort) {
    class Collector {
      readonly run: QueryRun = query.start();
      readonly hits: QueryHit[] = [];
      push(batch: readonly EventRecord[]) {
        for (const event of batch) {
          const h = this.run.push(event);
          if (h) for (const x of h) this.hits.push(x);
        }
        progress.events += batch.length;
        progress.tick();
      }
    }
    const result = await readInTimeOrder(
      inputs,
      readOptions,
      { timestampField: flags.timestampField, tiebreakerField: flags.tiebreakerField },
      () => new Collector(),
      read,
    );
    hits.push(...result.consumer.hits, ...result.consumer.run.finish());
    summary = result.summary;
  } else {
    const run = query.start();
    const stream = read(inputs, readOptions);
    for await (const batch of stream) {
      const found: QueryHit[] = [];
      for (const event of batch) {
        const h = run.push(event);
        if (h) for (const x of h) found.push(x);
      }
      progress.events += batch.length;
      progress.tick();
      if (streaming) await emit(found);
      else hits.push(...found);
      if (written >= limit && streaming) break;
    }
    const rest = run.finish();
    if (streaming) await emit(rest);
    else hits.push(...rest);
    summary = stream.summary;
  }
  progress.done();
  if (!streaming) {
    const selected = hits.slice(0, limit);
    if (format === "json") {
      const { head, tail } = responseJsonParts(query.shape, selected.length);
      await out.write(head);
      for (let i = 0; i < selected.length; i++) {
        const h = selected[i];
        await out.write(`${i > 0 ? "," : ""}${h.kind === "event" ? eventHitJson(h.event) : hitJson(h)}`);
      }
      await out.write(tail);
    } else {
      if (format === "table" && query.shape === "event") await out.write(`${tableHeader()}\n`);
      await emit(selected);
    }
  }
  await out.close();
  finishInput(summary, flags.strict);
}
