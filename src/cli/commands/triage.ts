/**
 * `quarry triage [--extract DIR] [--key HEX] [--nonce HEX] [--format table|json] [--output FILE] FILE...`
 *
 * Decodes 3CX artefacts (d3dcompiler_47.dll carrier, IconStorages ICO, macOS .main_storage) in each
 * FILE; see docs/triage.md. Output is a table when writing to a terminal, else a JSON array with one
 * object per input. Exit codes: 0 done (with or without findings, even if some files had errors),
 * 1 the output file could not be written, 2 usage error, 3 no input could be read at all.
 */
import { writeFile } from "node:fs/promises";
import { type Command, CommanderError, Option } from "commander";
import {
  isUnreadable,
  type TriageFinding,
  type TriageOptions,
  type TriageResult,
  triageFile,
} from "../../triage/index.js";

export const EXIT_OUTPUT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOTHING_READ = 3;

interface TriageCommandOptions {
  readonly extract?: string;
  readonly key?: string;
  readonly nonce?: string;
  readonly format?: "table" | "json";
  readonly output?: string;
}

export function registerTriageCommand(program: Command): Command {
  const command = program
    .command("triage")
    .description(
      "decode 3CX artefacts: d3dcompiler_47.dll carriers (RC4 payload in the certificate table), IconStorages ICO dead drops (AES-GCM C2 URL) and macOS .main_storage files",
    )
    .argument("<file...>", "files to triage")
    .option(
      "--extract <dir>",
      "write decoded stages and embedded PEs to DIR/<sha256> (mode 0644, never overwriting)",
    )
    .option(
      "--key <hex>",
      "key override: RC4 key for carriers (default the 12-byte 3CX key) and AES-256 key for icons (must then be 32 bytes)",
    )
    .option("--nonce <hex>", "AES-GCM nonce for icons (default the published 12-byte nonce)")
    .addOption(
      new Option("--format <format>", "output format (default: table on a terminal, json otherwise)").choices(
        ["table", "json"],
      ),
    )
    .option("--output <file>", "write the output to FILE instead of stdout")
    .action(async (files: string[], options: TriageCommandOptions, self: Command) => {
      await runTriage(files, options, self);
    });
  mapUsageErrorsToExitCode(command);
  return command;
}

/**
 * Commander exits 1 on a usage error; Quarry's contract is 2. An exit override the program set before
 * this command was registered (commander copies it to subcommands) still gets the call.
 */
function mapUsageErrorsToExitCode(command: Command): void {
  const inherited = (command as unknown as { _exitCallback?: (error: CommanderError) => void })._exitCallback;
  command.exitOverride((error) => {
    const mapped = error.exitCode === 0 ? error : new CommanderError(EXIT_USAGE, error.code, error.message);
    inherited?.(mapped);
    process.exit(mapped.exitCode);
  });
}

async function runTriage(
  files: readonly string[],
  options: TriageCommandOptions,
  command: Command,
): Promise<void> {
  const key = options.key === undefined ? undefined : parseHexOption(command, "--key", options.key);
  const nonce = options.nonce === undefined ? undefined : parseHexOption(command, "--nonce", options.nonce);
  if (key && key.length > 256) {
    command.error(`error: --key is ${key.length} bytes; an RC4 key has at most 256`, {
      exitCode: EXIT_USAGE,
    });
  }
  const triageOptions: TriageOptions = {
    rc4Key: key,
    icoKey: key,
    icoNonce: nonce,
    extractDir: options.extract,
  };
  const results: TriageResult[] = [];
  for (const file of files) results.push(await triageFile(file, triageOptions));

  const format = options.format ?? (options.output === undefined && process.stdout.isTTY ? "table" : "json");
  const text = format === "table" ? renderTable(results) : `${JSON.stringify(results, null, 2)}\n`;
  if (options.output !== undefined) {
    try {
      await writeFile(options.output, text);
    } catch (error) {
      process.stderr.write(
        `quarry triage: cannot write ${options.output}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = EXIT_OUTPUT_FAILED;
      return;
    }
  } else {
    process.stdout.write(text);
  }
  if (results.length > 0 && results.every(isUnreadable)) process.exitCode = EXIT_NOTHING_READ;
}

/** Hex bytes, optionally with a `0x` prefix; at least one byte. Anything else is a usage error. */
function parseHexOption(command: Command, flag: string, text: string): Uint8Array {
  const digits = text.trim().replace(/^0x/i, "");
  if (digits.length === 0 || digits.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(digits)) {
    command.error(`error: ${flag} expects hex bytes (an even number of 0-9a-f digits), got '${text}'`, {
      exitCode: EXIT_USAGE,
    });
  }
  return Uint8Array.from(Buffer.from(digits, "hex"));
}

/** One block per file: a header line, then one line (or a few) per finding, error, or note. */
export function renderTable(results: readonly TriageResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    const { path, size, sha256 } = result.file;
    lines.push(size === null ? path : `${path}  ${size} bytes  sha256 ${sha256}`);
    if (result.error) lines.push(`  error ${result.error.code}: ${result.error.message}`);
    if (result.findings.length === 0 && !result.error) lines.push("  no known 3CX artefact");
    for (const finding of result.findings) lines.push(...renderFinding(finding).map((l) => `  ${l}`));
  }
  return `${lines.join("\n")}\n`;
}

function renderFinding(finding: TriageFinding): string[] {
  const out: string[] = [];
  switch (finding.kind) {
    case "carrier": {
      const where = finding.region === "certificate-table" ? "in the certificate table" : "(file search)";
      out.push(
        `carrier: FEEDFACE marker (${finding.marker.form}) at 0x${finding.marker.offset.toString(16)} ${where}; ` +
          `${finding.encryptedLength} encrypted bytes + ${finding.paddingLength} '0' padding`,
      );
      out.push(
        `  stage: ${finding.stage.size} bytes, sha256 ${finding.stage.sha256}${extracted(finding.stage)}`,
      );
      for (const pe of finding.embeddedPes) {
        out.push(
          `  embedded PE at 0x${pe.offset.toString(16)}: ${pe.machineName} ${pe.isDll ? "DLL" : "EXE"}, ` +
            `${pe.size} bytes${pe.truncated ? " (truncated)" : ""}, built ${pe.timestampIso}, sha256 ${pe.sha256}${extracted(pe)}`,
        );
      }
      if (finding.d3dcompilerPdbName) out.push("  carries the PDB name D3DCompiler_47.pdb");
      break;
    }
    case "ico-dead-drop":
      out.push(
        finding.tagVerified === true
          ? `ico dead drop: C2 URL ${finding.url} (GCM tag verified)`
          : `ico dead drop: ${finding.tagVerified === false ? "GCM tag does NOT verify" : "not decrypted"}; ` +
              `${finding.ciphertextLength} ciphertext bytes, prefix ${finding.prefixHex}`,
      );
      break;
    case "main-storage":
      out.push(`.main_storage: UUID ${finding.uuid}, time ${finding.timestampIso ?? finding.timestamp}`);
      break;
    default:
      return assertNever(finding);
  }
  for (const note of finding.notes) out.push(`  note: ${note}`);
  return out;
}

function extracted(target: { extractedTo?: string; extractError?: string }): string {
  if (target.extractedTo) return ` -> ${target.extractedTo}`;
  if (target.extractError) return ` (not extracted: ${target.extractError})`;
  return "";
}

function assertNever(value: never): never {
  throw new Error(`unhandled finding kind: ${JSON.stringify(value)}`);
}
