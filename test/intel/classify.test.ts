import assert from "node:assert/strict";
import { test } from "node:test";
import { parseIndicatorValue, refang } from "../../src/intel/index.js";

function parsed(text: string, hint?: Parameters<typeof parseIndicatorValue>[1]): [string, string] {
  const r = parseIndicatorValue(text, hint);
  assert.ok(r.ok, `expected ${text} to parse: ${r.ok ? "" : r.message}`);
  return [r.type, r.value];
}

function rejected(text: string, hint?: Parameters<typeof parseIndicatorValue>[1]): string {
  const r = parseIndicatorValue(text, hint);
  assert.ok(!r.ok, `expected ${text} to be rejected, got ${r.ok ? `${r.type} ${r.value}` : ""}`);
  return r.message;
}

test("refang undoes the common defanging forms", () => {
  assert.equal(refang("example[.]com"), "example.com");
  assert.equal(refang("example(.)com"), "example.com");
  assert.equal(refang("example{.}com"), "example.com");
  assert.equal(refang("example[dot]com"), "example.com");
  assert.equal(refang("example[DOT]com"), "example.com");
  assert.equal(refang("hxxps://evil[.]example/x"), "https://evil.example/x");
  assert.equal(refang("hXXp://evil[.]example/x"), "http://evil.example/x");
  assert.equal(refang("http[:]//evil[.]example"), "http://evil.example");
  assert.equal(refang("https[://]evil.example"), "https://evil.example");
  assert.equal(refang("hxxp[:]//a[.]b[.]example[/]p"), "http://a.b.example/p");
  assert.equal(refang("fxp://files[.]example"), "ftp://files.example");
  assert.equal(refang("\u200bevil.example\u200e "), "evil.example");
  // Plain text stays as it is.
  assert.equal(refang("https://ok.example/a[1]"), "https://ok.example/a[1]");
});

test("hashes are recognised by length, any case, with or without an algorithm prefix", () => {
  assert.deepEqual(parsed("D41D8CD98F00B204E9800998ECF8427E"), ["md5", "d41d8cd98f00b204e9800998ecf8427e"]);
  assert.deepEqual(parsed("da39a3ee5e6b4b0d3255bfef95601890afd80709"), [
    "sha1",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
  ]);
  const sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
  assert.deepEqual(parsed(sha256), ["sha256", sha256.toLowerCase()]);
  assert.deepEqual(parsed(`SHA256=${sha256}`), ["sha256", sha256.toLowerCase()]);
  assert.deepEqual(parsed(`sha-1:${"a".repeat(40)}`), ["sha1", "a".repeat(40)]);
  rejected(`MD5=${"a".repeat(40)}`);
  assert.match(rejected("abcdef0123", "hash"), /10 hex digits/);
  assert.match(rejected("a".repeat(32), "sha256"), /declared sha256/);
});

test("IPs, networks and their canonical forms", () => {
  assert.deepEqual(parsed("192.0.2.1"), ["ipv4", "192.0.2.1"]);
  assert.deepEqual(parsed("192[.]0[.]2[.]1"), ["ipv4", "192.0.2.1"]);
  assert.deepEqual(parsed("2001:DB8:0:0:0:0:0:1"), ["ipv6", "2001:db8::1"]);
  assert.deepEqual(parsed("[2001:db8::1]"), ["ipv6", "2001:db8::1"]);
  assert.deepEqual(parsed("10.1.2.3/8"), ["cidr", "10.0.0.0/8"]);
  assert.deepEqual(parsed("2001:db8::/32"), ["cidr", "2001:db8::/32"]);
  assert.deepEqual(parsed("192.0.2.7/32"), ["ipv4", "192.0.2.7"]);
  assert.deepEqual(parsed("::1/128"), ["ipv6", "::1"]);
});

test("version numbers are not IPs or domains; octal-looking quads are refused, not guessed", () => {
  rejected("18.12.407");
  rejected("010.1.1.1");
  rejected("256.1.1.1");
  rejected("1.2.3.4/33");
});

test("URLs: scheme, default port and fragment dropped, host lower-cased, path case kept", () => {
  assert.deepEqual(parsed("hxxps://Evil.EXAMPLE:443/Path/To?q=1#frag"), ["url", "evil.example/Path/To?q=1"]);
  assert.deepEqual(parsed("http://evil.example:8080/x"), ["url", "evil.example:8080/x"]);
  assert.deepEqual(parsed("http://user:pw@evil.example/x"), ["url", "evil.example/x"]);
  assert.deepEqual(parsed("raw.example.com/Stage/Images/main/"), [
    "url",
    "raw.example.com/Stage/Images/main/",
  ]);
  assert.deepEqual(parsed("https://evil.example"), ["url", "evil.example/"]);
  assert.deepEqual(parsed("http://[2001:db8::1]:80/a"), ["url", "[2001:db8::1]/a"]);
  assert.deepEqual(parsed("http://192.0.2.1/a"), ["url", "192.0.2.1/a"]);
  assert.match(rejected("https://"), /not a valid URL/);
});

test("a bare host declared as a URL loads as the host", () => {
  assert.deepEqual(parsed("evil[.]example", "url"), ["domain", "evil.example"]);
  assert.deepEqual(parsed("192.0.2.1", "url"), ["ipv4", "192.0.2.1"]);
  assert.deepEqual(parsed("evil.example/x", "url"), ["url", "evil.example/x"]);
});

test("domains: lower-cased, trailing dot and wildcard dropped, IDN to punycode", () => {
  assert.deepEqual(parsed("Evil.Example."), ["domain", "evil.example"]);
  assert.deepEqual(parsed("*.evil.example"), ["domain", "evil.example"]);
  assert.deepEqual(parsed("bücher.example"), ["domain", "xn--bcher-kva.example"]);
  assert.deepEqual(parsed("_dmarc.evil.example"), ["domain", "_dmarc.evil.example"]);
  rejected("localhost");
  rejected("-bad-.example");
  rejected(`${"a".repeat(64)}.example`);
  rejected("evil..example");
  rejected("two words.example");
});

test("declared types must fit the value", () => {
  assert.match(rejected("evil.example", "ip"), /declared ip/);
  assert.match(rejected("192.0.2.1", "md5"), /declared md5/);
  assert.deepEqual(parsed("192.0.2.1", "host"), ["ipv4", "192.0.2.1"]);
});

test("e-mail addresses are reported as unsupported, not as malformed", () => {
  const r = parseIndicatorValue("someone[@]mail.example".replace("[@]", "@"));
  assert.ok(!r.ok && r.unsupported);
});

test("hostile values are rejected quickly and messages are clipped", () => {
  const long = "a".repeat(20_000);
  const started = Date.now();
  const message = rejected(long);
  assert.ok(message.length < 200);
  assert.ok(Date.now() - started < 500);
  const dots = `${"a.".repeat(5000)}example`;
  rejected(dots);
});
