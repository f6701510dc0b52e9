/**
 * A small RFC 4180 reader: quoted fields with doubled quotes, delimiters and line breaks inside quotes,
 * CRLF or LF line ends. One pass over the text, no backtracking.
 */

export interface CsvRecord {
  /** 1-based line where the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
}

export interface CsvProblem {
  readonly line: number;
  readonly message: string;
}

/** Upper bound on one field, so a stray quote cannot swallow a huge file into one value unnoticed. */
const MAX_FIELD = 1 << 20;

export function readCsv(text: string, delimiter = ","): { records: CsvRecord[]; problems: CsvProblem[] } {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  const d = delimiter.charCodeAt(0);
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = "";
    let quoted = false;
    let broken = false;
    // One record.
    for (;;) {
      if (i >= n) {
        if (quoted) {
          problems.push({ line: startLine, message: "unterminated quoted field" });
          broken = true;
        }
        fields.push(field);
        break;
      }
      const c = text.charCodeAt(i);
      if (quoted) {
        if (c === 34) {
          if (text.charCodeAt(i + 1) === 34) {
            field += '"';
            i += 2;
            continue;
          }
          quoted = false;
          i++;
          continue;
        }
        if (c === 10) line++;
        if (field.length >= MAX_FIELD) {
          problems.push({ line: startLine, message: `quoted field longer than ${MAX_FIELD} characters` });
          broken = true;
          // Resynchronise at the next line end.
          while (i < n && text.charCodeAt(i) !== 10) i++;
          fields.push(field);
          break;
        }
        field += text[i];
        i++;
        continue;
      }
      if (c === 34 && field.trim() === "") {
        quoted = true;
        field = "";
        i++;
        continue;
      }
      if (c === d) {
        fields.push(field);
        field = "";
        i++;
        continue;
      }
      if (c === 13 && text.charCodeAt(i + 1) === 10) {
        i++;
        continue;
      }
      if (c === 10) {
        i++;
        line++;
        fields.push(field);
        break;
      }
      field += text[i];
      i++;
    }
    if (i < n && text.charCodeAt(i - 1) !== 10 && broken) {
      i++;
      line++;
    }
    if (!broken && !(fields.length === 1 && fields[0].trim() === ""))
      records.push({ line: startLine, fields });
  }
  return { records, problems };
}
