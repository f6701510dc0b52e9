import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { test } from "node:test";
import { ICO_AES_KEY, ICO_GCM_NONCE } from "../../src/triage/constants.js";
import { decodeIcoDeadDrop, type IcoDeadDropFinding } from "../../src/triage/ico.js";
import {
  buildIco,
  buildIcoDeadDrop,
  buildPng,
  encryptIcoUrl,
  PUBLISHED_ICO_KEY,
  PUBLISHED_ICO_NONCE,
} from "../fixtures-gen/suddenicon.js";

/** The real icon1.ico tail and its URL, published in FACTS.md §4 (known-answer test). */
const ICON1_BASE64 =
  "KQAAAMCZU76iEIDzRYiEO+d7qu+kwQWzha6sxQrtzFo3oPSekM4q0Wu46sKqv1q+GchmjG0HG/fl41Oigaal68AHrK816l/izvZ/sxR3nhBQadRJyhHn2Q==";
const ICON1_URL = "https://msstorageazure.com/window";

function decoded(bytes: Uint8Array, options = {}): IcoDeadDropFinding {
  const result = decodeIcoDeadDrop(bytes, options);
  assert.equal(result.error, undefined);
  assert.ok(result.finding, "no ICO finding");
  return result.finding;
}

test("the key and nonce constants are the published ones", () => {
  assert.deepEqual(ICO_AES_KEY, PUBLISHED_ICO_KEY);
  assert.deepEqual(ICO_GCM_NONCE, PUBLISHED_ICO_NONCE);
});

test("known answer: encrypting the icon1 URL reproduces the real base64 tail", () => {
  assert.equal(encryptIcoUrl(ICON1_URL).base64, ICON1_BASE64);
});

test("known answer: an icon carrying the real icon1 tail decodes to its URL", () => {
  const bytes = buildIco(buildPng(), Buffer.from(`$${ICON1_BASE64}`, "latin1"));
  const f = decoded(bytes);
  assert.equal(f.url, ICON1_URL);
  assert.equal(f.tagVerified, true);
  assert.equal(f.prefixHex, "29000000");
  assert.equal(f.tagHex, "c09953bea21080f34588843be77baaef");
  assert.equal(f.ciphertextLength, 68);
  assert.equal(f.base64Length, ICON1_BASE64.length);
});

test("round trip through the generator, with the layout reported", () => {
  for (const url of [
    "https://example.com/",
    "https://zacharryblogs.com/feed",
    `https://x.test/${"a".repeat(300)}`,
  ]) {
    const icon = buildIcoDeadDrop({ url, width: 48 });
    const f = decoded(icon.bytes);
    assert.equal(f.url, url);
    assert.equal(f.tailOffset, icon.tailOffset);
    assert.equal(f.tailLength, icon.bytes.length - icon.tailOffset);
    assert.deepEqual(f.images, [
      {
        width: 48,
        height: 48,
        bitsPerPixel: 32,
        offset: 22,
        size: icon.pngLength,
        format: "png",
        pngEnd: icon.tailOffset,
      },
    ]);
    assert.deepEqual(f.notes, []);
  }
});

test("a tag that does not verify is a finding with tagVerified false, not an error", () => {
  const icon = buildIcoDeadDrop({ url: ICON1_URL });
  const text = Buffer.from(icon.base64, "base64");
  text[10] ^= 1; // inside the tag
  const bytes = buildIco(buildPng(), Buffer.from(`$${text.toString("base64")}`));
  const result = decodeIcoDeadDrop(bytes);
  assert.equal(result.error, undefined);
  assert.equal(result.finding?.tagVerified, false);
  assert.equal(result.finding?.url, null);
  assert.match(result.finding?.notes.join() ?? "", /tag does not verify/);
  // Wrong key and wrong nonce likewise.
  assert.equal(decodeIcoDeadDrop(icon.bytes, { key: new Uint8Array(32) }).finding?.tagVerified, false);
  assert.equal(decodeIcoDeadDrop(icon.bytes, { nonce: new Uint8Array(12) }).finding?.tagVerified, false);
});

test("--key/--nonce: other key material decodes when given", () => {
  const key = new Uint8Array(32).fill(7);
  const nonce = new Uint8Array(12).fill(9);
  const icon = buildIcoDeadDrop({ url: "https://other.test/p", key, nonce });
  assert.equal(decoded(icon.bytes, { key, nonce }).url, "https://other.test/p");
  const unusable = decodeIcoDeadDrop(icon.bytes, { key: new Uint8Array(12) });
  assert.match(unusable.error ?? "", /key is 12 bytes; AES-256-GCM needs 32/);
  assert.equal(unusable.finding?.tagVerified, null);
});

test("plain icons and icons with other trailing data are not findings", () => {
  assert.deepEqual(decodeIcoDeadDrop(buildIco(buildPng())), { finding: null });
  assert.deepEqual(decodeIcoDeadDrop(buildIco(buildPng(), Buffer.from("trailing junk"))), { finding: null });
  assert.deepEqual(decodeIcoDeadDrop(Buffer.from("not an icon at all")), { finding: null });
});

test("a trailing newline after the base64 is tolerated", () => {
  const bytes = buildIco(buildPng(), Buffer.from(`$${ICON1_BASE64}\r\n`));
  assert.equal(decoded(bytes).url, ICON1_URL);
});

test("invalid base64 and short payloads are clear errors", () => {
  const cases: [string, RegExp][] = [
    ["$", /no base64 text/],
    ["$KQAA!AAA", /character 0x21 at position 4/],
    ["$KQAAAMC", /not a multiple of 4/],
    ["$KQ==AAAA", /data after '=' padding/],
    ["$KQAAAA===", /'=' padding characters/],
    ["$KQAAAMCZU76iEIDz", /needs at least 20/],
  ];
  for (const [tail, message] of cases) {
    const result = decodeIcoDeadDrop(buildIco(buildPng(), Buffer.from(tail, "latin1")));
    assert.equal(result.finding, null, tail);
    assert.match(result.error ?? "", message, tail);
  }
});

test("corrupt directories and PNGs are clear errors", () => {
  const good = buildIcoDeadDrop({ url: ICON1_URL }).bytes;
  const mutate = (f: (b: Uint8Array, dv: DataView) => void): Uint8Array => {
    const copy = Uint8Array.from(good);
    f(copy, new DataView(copy.buffer));
    return copy;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["header only", good.subarray(0, 4), /truncated ICO header/],
    ["no images", mutate((_, dv) => dv.setUint16(4, 0, true)), /lists no images/],
    ["65535 entries", mutate((_, dv) => dv.setUint16(4, 0xffff, true)), /truncated ICO directory/],
    [
      "image offset past EOF",
      mutate((_, dv) => dv.setUint32(18, 0xffffff00, true)),
      /extends beyond the end/,
    ],
    ["image size of 4 GiB", mutate((_, dv) => dv.setUint32(14, 0xffffffff, true)), /extends beyond the end/],
    [
      "PNG chunk claiming 2 GiB",
      mutate((_, dv) => dv.setUint32(22 + 8, 0x7ffffff0, false)),
      /extends beyond/,
    ],
    ["PNG chunk claiming 4 GiB", mutate((_, dv) => dv.setUint32(22 + 8, 0xfffffff0, false)), /claims/],
  ];
  for (const [name, bytes, message] of cases) {
    const result = decodeIcoDeadDrop(bytes);
    assert.equal(result.finding, null, name);
    assert.match(result.error ?? "", message, name);
  }
  // An icon cut inside the PNG: the walk reaches the end of the file without IEND.
  const png = buildPng();
  const cut = buildIco(png.subarray(0, png.length - 12));
  assert.equal(decodeIcoDeadDrop(cut).finding, null);
});

test("the UTF-16 NUL ends the URL; a missing one is noted", () => {
  const icon = buildIcoDeadDrop({ url: "https://a.test/x\0ignored" });
  assert.equal(decoded(icon.bytes).url, "https://a.test/x");
  // Encrypt without the terminator by building the payload by hand.
  const cipher = createCipheriv("aes-256-gcm", PUBLISHED_ICO_KEY, PUBLISHED_ICO_NONCE);
  const ct = Buffer.concat([cipher.update(Buffer.from("https://b.test", "utf16le")), cipher.final()]);
  const tail = Buffer.concat([Buffer.from([0x29, 0, 0, 0]), cipher.getAuthTag(), ct]).toString("base64");
  const f = decoded(buildIco(buildPng(), Buffer.from(`$${tail}`)));
  assert.equal(f.url, "https://b.test");
  assert.match(f.notes.join(), /no UTF-16 NUL terminator/);
});
