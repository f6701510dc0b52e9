/**
 * Plain-text IOC lists: one indicator per line, `#` (or `//`, `;`) comment lines, blank lines ignored.
 * A line may carry a comment after the value, separated by whitespace, `;`, `,`, `|` or a tab
 * (`<hash>;<comment>` is signature-base's format); that comment becomes the label. The most recent comment
 * line is kept as `metadata.section` and is the label of values that have none of their own.
 */

import { parseIndicatorValue } from "./classify.js";
import type { ListBuilder } from "./list-builder.js";

const MAX_LINE = 65536;

export function readTextList(text: string, out: ListBuilder): void {
  let section: string | undefined;
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end);
    start = end + 1;
    if (raw.length > MAX_LINE) {
      out.error(line, `line longer than ${MAX_LINE} characters`);
      continue;
    }
    const content = raw.trim();
    if (content === "") continue;
    if (content.startsWith("#") || content.startsWith("//") || content.startsWith(";")) {
      const comment = content.replace(/^(?:#+|\/\/+|;+)\s*/, "").trim();
      if (comment !== "") section = comment;
      continue;
    }
    const { value, comment } = splitLine(content);
    const metadata: Record<string, string> = {};
    if (section !== undefined) metadata.section = section;
    const label = comment || section;
    out.addValue(value, undefined, { line, metadata, ...(label ? { label } : {}) });
  }
}

/**
 * Separate the value from a trailing comment. The whole first whitespace-delimited token is the value
 * unless cutting it at the first `;`, `,` or `|` leaves a prefix that is itself a valid non-URL indicator
 * (so `hash;comment` splits, but a URL whose query contains `;` or `,` stays whole).
 */
function splitLine(content: string): { value: string; comment: string } {
  const ws = content.search(/\s/);
  const token = ws < 0 ? content : content.slice(0, ws);
  const afterToken = ws < 0 ? "" : content.slice(ws);
  const cut = token.search(/[;,|]/);
  if (cut > 0) {
    const prefix = token.slice(0, cut);
    const parsed = parseIndicatorValue(prefix);
    if (parsed.ok && parsed.type !== "url") {
      return { value: prefix, comment: cleanComment(token.slice(cut + 1) + afterToken) };
    }
  }
  return { value: token, comment: cleanComment(afterToken) };
}

function cleanComment(text: string): string {
  return text.replace(/^[\s;,|#]+/, "").trim();
}
