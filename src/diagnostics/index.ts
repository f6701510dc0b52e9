/**
 * One diagnostic type for every user-facing error: query parsing and verification (EQL, KQL), rule
 * loading, input reading. Spans are UTF-16 offsets into the source text; lines and columns are computed
 * only when rendering.
 */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface DiagnosticLabel {
  readonly span: Span;
  readonly text: string;
  readonly primary: boolean;
}

export type Severity = "error" | "warning";

export interface Diagnostic {
  /** Stable code, listed in docs/errors.md: `EQL1xx`, `KQL0xx`, `RULE2xx`, `IN3xx`, ... */
  readonly code: string;
  readonly severity: Severity;
  readonly title: string;
  readonly labels: readonly DiagnosticLabel[];
  /** What the parser would have accepted at the failure point, already sorted and de-duplicated. */
  readonly expected?: readonly string[];
  readonly notes?: readonly string[];
  readonly help?: string;
}

/** Thrown by compilers and loaders; carries the diagnostic and the source it refers to. */
export class QuarryError extends Error {
  constructor(
    readonly diagnostic: Diagnostic,
    readonly sourceText?: string,
    readonly origin?: string,
  ) {
    super(diagnostic.title);
    this.name = "QuarryError";
  }
}

export function isQuarryError(error: unknown): error is QuarryError {
  return error instanceof QuarryError;
}

/** Join alternatives the way every "expected ..." message in Quarry does: sorted, unique, "a, b or c". */
export function joinAlternatives(items: readonly string[]): string {
  const unique = [...new Set(items)].sort();
  if (unique.length <= 1) return unique.join("");
  return `${unique.slice(0, -1).join(", ")} or ${unique[unique.length - 1]}`;
}

export interface LineColumn {
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
}

export function lineColumn(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

export interface RenderOptions {
  /** Where the source came from, e.g. `rules/3cx.toml` or `<query>`. */
  readonly origin?: string;
  /** Line number of the source's first line inside `origin` (for a query embedded in a rule file). */
  readonly firstLine?: number;
  readonly color?: boolean;
}

/**
 * Render like yara-x / rustc: a header, the location, the source line(s) with carets under the primary
 * span and dashes under secondary ones, then notes and help.
 */
export function renderDiagnostic(
  diagnostic: Diagnostic,
  source: string | undefined,
  options: RenderOptions = {},
): string {
  const color = options.color ?? false;
  const paint = (code: string, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const out: string[] = [];
  const sev = diagnostic.severity === "error" ? paint("1;31", "error") : paint("1;33", "warning");
  out.push(`${sev}[${diagnostic.code}]: ${paint("1", diagnostic.title)}`);
  const primary = diagnostic.labels.find((l) => l.primary) ?? diagnostic.labels[0];
  if (source !== undefined && primary) {
    const offsetLine = (options.firstLine ?? 1) - 1;
    const pos = lineColumn(source, primary.span.start);
    out.push(` --> ${options.origin ?? "<query>"}:${pos.line + offsetLine}:${pos.column}`);
    const lines = source.split("\n");
    const shown = [...new Set(diagnostic.labels.map((l) => lineColumn(source, l.span.start).line))].sort(
      (a, b) => a - b,
    );
    const gutter = String(Math.max(...shown) + offsetLine).length;
    const pad = " ".repeat(gutter);
    out.push(`${pad} |`);
    for (const lineNo of shown) {
      const text = (lines[lineNo - 1] ?? "").replace(/\r$/, "").replace(/\t/g, " ");
      out.push(`${String(lineNo + offsetLine).padStart(gutter)} | ${text}`);
      for (const label of diagnostic.labels) {
        const start = lineColumn(source, label.span.start);
        if (start.line !== lineNo) continue;
        const endOnLine = Math.min(
          label.span.end,
          source.indexOf("\n", label.span.start) === -1
            ? source.length
            : source.indexOf("\n", label.span.start),
        );
        const width = Math.max(1, endOnLine - label.span.start);
        const mark = (label.primary ? "^" : "-").repeat(width);
        const painted = label.primary ? paint("1;31", mark) : paint("1;34", mark);
        out.push(`${pad} | ${" ".repeat(start.column - 1)}${painted}${label.text ? ` ${label.text}` : ""}`);
      }
    }
  } else if (options.origin) {
    out.push(` --> ${options.origin}`);
  }
  for (const note of diagnostic.notes ?? []) out.push(`${" ".repeat(2)}= note: ${note}`);
  if (diagnostic.help) out.push(`${" ".repeat(2)}= help: ${diagnostic.help}`);
  return out.join("\n");
}
