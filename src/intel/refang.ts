/**
 * Undo the "defanging" threat reports apply so indicators cannot be clicked or resolved by accident:
 * `example[.]com`, `example(.)com`, `example{.}com`, `example[dot]com`, `hxxps://`, `http[:]//`,
 * `https[://]`, `[/]`. Also drops invisible format characters (zero-width spaces, bidi marks, BOMs) that
 * copy-paste from web pages leaves in values.
 *
 * Every pattern here is a fixed alternation without nested quantifiers, so the replacement is linear.
 */
const DOT = /\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}/gi;
const COLON_SLASHES = /\[:\/\/\]|\[:\]|\[\/\]/g;
const SCHEME = /^(?:hxxp|hXXp|hxxps|hXXps|h\[xx\]p|h\[xx\]ps|h\*\*p|h\*\*ps|fxp|hxtp|hxxtp)(?=s?:|\[:)/i;
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;

export function refang(text: string): string {
  let out = text.replace(INVISIBLE, "").trim();
  out = out.replace(DOT, ".").replace(COLON_SLASHES, (m) => (m === "[/]" ? "/" : m === "[:]" ? ":" : "://"));
  const scheme = SCHEME.exec(out);
  if (scheme) {
    const word = scheme[0].toLowerCase();
    const replacement = word.startsWith("f") ? "ftp" : word.endsWith("s") ? "https" : "http";
    out = replacement + out.slice(word.length);
  }
  return out;
}

/** True when refanging changed something other than surrounding whitespace. */
export function wasDefanged(text: string): boolean {
  return refang(text) !== text.replace(INVISIBLE, "").trim();
}
