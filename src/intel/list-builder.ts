/**
 * Collects what a loader finds (indicators, errors, warnings) and derives metadata every format shares.
 * Issues are capped so a huge file of garbage gives a bounded report, ending with a count of the rest.
 */
import { clip, parseIndicatorValue, type TypeHint } from "./classify.js";
import type { Indicator, IndicatorFormat, IndicatorList, IndicatorType, LoadIssue } from "./types.js";

const MAX_ISSUES = 1000;

export interface IndicatorFields {
  readonly label?: string;
  readonly source?: string;
  readonly metadata?: Record<string, string>;
  readonly line?: number;
}

export class ListBuilder {
  readonly indicators: Indicator[] = [];
  private readonly errors: LoadIssue[] = [];
  private readonly warnings: LoadIssue[] = [];
  private droppedErrors = 0;
  private droppedWarnings = 0;
  private lastErrorLine = 0;
  private lastWarningLine = 0;

  constructor(
    readonly name: string,
    readonly file: string,
    private readonly defaultSource: string | undefined,
  ) {}

  error(line: number, message: string): void {
    if (this.errors.length < MAX_ISSUES) this.errors.push({ file: this.file, line, message });
    else {
      this.droppedErrors++;
      this.lastErrorLine = line;
    }
  }

  warning(line: number, message: string): void {
    if (this.warnings.length < MAX_ISSUES) this.warnings.push({ file: this.file, line, message });
    else {
      this.droppedWarnings++;
      this.lastWarningLine = line;
    }
  }

  /**
   * Parse `text` (with an optional declared type) and add it; a bad value becomes an error (or a warning
   * when it is well-formed but unsupported). Returns whether an indicator was added.
   */
  addValue(text: string, hint: TypeHint | undefined, fields: IndicatorFields, declared?: string): boolean {
    const line = fields.line ?? 0;
    const parsed = parseIndicatorValue(text, hint);
    if (!parsed.ok) {
      if (parsed.unsupported) this.warning(line, parsed.message);
      else this.error(line, parsed.message);
      return false;
    }
    const metadata: Record<string, string> = { ...fields.metadata };
    if (declared !== undefined && !declaredMatches(declared, parsed.type)) metadata.declared_type = declared;
    if (fields.label) deriveFromLabel(fields.label, metadata);
    this.add(parsed.type, parsed.value, text.trim(), { ...fields, metadata });
    return true;
  }

  add(type: IndicatorType, value: string, original: string, fields: IndicatorFields): void {
    const source = fields.source ?? this.defaultSource;
    const indicator: Indicator = {
      type,
      value,
      original,
      ...(fields.label ? { label: fields.label } : {}),
      ...(source ? { source } : {}),
      metadata: fields.metadata ?? {},
      list: this.name,
      origin: fields.line === undefined ? { file: this.file } : { file: this.file, line: fields.line },
    };
    this.indicators.push(indicator);
  }

  finish(format: IndicatorFormat): IndicatorList {
    const errors = [...this.errors];
    const warnings = [...this.warnings];
    if (this.droppedErrors > 0) {
      errors.push({
        file: this.file,
        line: this.lastErrorLine,
        message: `${this.droppedErrors} more errors not listed (the first ${MAX_ISSUES} are)`,
      });
    }
    if (this.droppedWarnings > 0) {
      warnings.push({
        file: this.file,
        line: this.lastWarningLine,
        message: `${this.droppedWarnings} more warnings not listed (the first ${MAX_ISSUES} are)`,
      });
    }
    return { name: this.name, format, indicators: this.indicators, errors, warnings };
  }
}

/** Is a list's own type word (`SHA256`, `hostname`, `URL`, ...) a fair name for what was loaded? */
function declaredMatches(declared: string, type: IndicatorType): boolean {
  const word = declared.toLowerCase().replace(/[^a-z0-9]/g, "");
  switch (type) {
    case "md5":
    case "sha1":
    case "sha256":
      return word.includes(type) || word.includes("hash") || word === "file";
    case "domain":
      return /domain|host|fqdn|dns/.test(word);
    case "url":
      return /url|uri|link/.test(word);
    case "ipv4":
    case "ipv6":
    case "cidr":
      return /ip|cidr|net|address|range|subnet/.test(word);
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}

const OS_PREFIX = /^\s*(win|windows|mac|macos|osx|linux|android|ios)\s*:/i;
const FILE_NAME =
  /[\w.-]{1,200}\.(?:dll|exe|msi|dmg|dylib|nupkg|ico|so|pkg|zip|bin|sys|ps1|vbs|jar|apk|app|scr|lnk)\b/i;
const VERSION = /\b\d{1,4}\.\d{1,4}\.\d{1,6}(?:\.\d{1,6})?\b/;

/**
 * Facts third-party lists put in free-text notes (`WIN: MSI 3cxdesktopapp-18.12.407.msi`): the OS prefix,
 * a file name with a known executable/package extension, and a dotted version. Only fills keys the record
 * did not set itself; the label stays as written.
 */
function deriveFromLabel(label: string, metadata: Record<string, string>): void {
  const text = clip(label, 1000);
  const os = OS_PREFIX.exec(text);
  if (os && metadata.os === undefined) {
    const word = os[1].toLowerCase();
    metadata.os = word.startsWith("win") ? "windows" : word === "mac" || word === "osx" ? "macos" : word;
  }
  const fileName = FILE_NAME.exec(text);
  if (fileName && metadata.file_name === undefined) metadata.file_name = fileName[0].replace(/^.*[/\\]/, "");
  const version = VERSION.exec(fileName ? fileName[0] : text);
  if (version && metadata.version === undefined && !/https?:/i.test(text.slice(0, version.index))) {
    metadata.version = version[0];
  }
}
