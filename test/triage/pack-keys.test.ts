import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isQuarryError, lineColumn } from "../../src/diagnostics/index.js";
import {
  bundledThreeCxPack,
  bundledTriageKeys,
  loadTriageKeys,
  triageBuffer,
} from "../../src/triage/index.js";
import {
  buildIcoDeadDrop,
  buildMainStorage,
  buildSuddenIconCarrier,
  PUBLISHED_ICO_KEY,
  PUBLISHED_ICO_NONCE,
  PUBLISHED_RC4_KEY,
} from "../fixtures-gen/suddenicon.js";

const dir = mkdtempSync(join(tmpdir(), "quarry-triage-keys-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let packs = 0;
function pack(manifest: string | null): string {
  const root = join(dir, `pack${packs++}`);
  mkdirSync(root);
  if (manifest !== null) writeFileSync(join(root, "pack.toml"), manifest);
  return root;
}

const OTHER_RC4 = "another key!";
const OTHER_AES = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const OTHER_NONCE = "0x0102030405060708090a0b0c";

test("the bundled 3CX pack carries the published keys, and triage reads them from its pack.toml", () => {
  const keys = bundledTriageKeys();
  assert.deepEqual(keys.rc4Key, PUBLISHED_RC4_KEY);
  assert.deepEqual(keys.icoKey, PUBLISHED_ICO_KEY);
  assert.deepEqual(keys.icoNonce, PUBLISHED_ICO_NONCE);
  assert.equal(keys.macosXorKey, 0x7a);
  const manifest = join(bundledThreeCxPack(), "pack.toml");
  assert.deepEqual(keys.sources, {
    rc4Key: manifest,
    icoKey: manifest,
    icoNonce: manifest,
    macosXorKey: manifest,
  });
});

test("a pack's own keys decode what was encrypted with them, and only those", async () => {
  const root = pack(
    `name = "x"\n[constants]\nrc4_key = "${OTHER_RC4}"\nico_aes_key_hex = "${OTHER_AES}"\nico_aes_nonce_hex = "${OTHER_NONCE}"\nmacos_xor_key = 0x11\n`,
  );
  const keys = loadTriageKeys(root);
  assert.equal(Buffer.from(keys.rc4Key).toString("latin1"), OTHER_RC4);
  assert.equal(keys.macosXorKey, 0x11);

  const carrier = buildSuddenIconCarrier({ key: Uint8Array.from(Buffer.from(OTHER_RC4, "latin1")) }).bytes;
  const withPack = await triageBuffer(carrier, "d3dcompiler_47.dll", { keys });
  const withDefault = await triageBuffer(carrier, "d3dcompiler_47.dll");
  const embedded = (r: typeof withPack) =>
    r.findings[0]?.kind === "carrier" ? r.findings[0].embeddedPes : null;
  assert.equal(embedded(withPack)?.length, 1);
  assert.equal(embedded(withDefault)?.length, 0);

  const icon = buildIcoDeadDrop({
    url: "https://example.test/c2",
    key: Uint8Array.from(Buffer.from(OTHER_AES, "hex")),
    nonce: Uint8Array.from(Buffer.from(OTHER_NONCE.slice(2), "hex")),
  }).bytes;
  const ico = (await triageBuffer(icon, "icon.ico", { keys })).findings[0];
  assert.equal(ico?.kind === "ico-dead-drop" && ico.url, "https://example.test/c2");
  const icoDefault = (await triageBuffer(icon, "icon.ico")).findings[0];
  assert.equal(icoDefault?.kind === "ico-dead-drop" && icoDefault.tagVerified, false);

  const storage = buildMainStorage().map((b) => b ^ 0x7a ^ 0x11);
  const ms = (await triageBuffer(storage, ".main_storage", { keys })).findings[0];
  assert.equal(ms?.kind === "main-storage" && ms.uuid, "fcd5e94a-aa69-393f-53e4-5e1057a616f1");
  assert.equal((await triageBuffer(storage, ".main_storage")).error?.code, "TRIAGE030");
});

test("--key/--nonce style overrides still win over the pack", async () => {
  const keys = loadTriageKeys(pack(`[constants]\nrc4_key = "${OTHER_RC4}"\n`));
  const carrier = buildSuddenIconCarrier().bytes;
  const r = await triageBuffer(carrier, "d3dcompiler_47.dll", { keys, rc4Key: PUBLISHED_RC4_KEY });
  assert.equal(r.findings[0]?.kind === "carrier" && r.findings[0].embeddedPes.length, 1);
});

test("values the pack lacks (or a pack without a manifest) fall back to the built-in constants", () => {
  const partial = loadTriageKeys(pack(`[constants]\nrc4_key = "${OTHER_RC4}"\n`));
  assert.deepEqual(partial.icoKey, PUBLISHED_ICO_KEY);
  assert.equal(partial.sources.icoKey, "built-in");
  assert.notEqual(partial.sources.rc4Key, "built-in");
  const none = loadTriageKeys(pack(null));
  assert.deepEqual(none.rc4Key, PUBLISHED_RC4_KEY);
  assert.equal(none.sources.rc4Key, "built-in");
  assert.deepEqual(loadTriageKeys(pack('name = "no constants"\n')).icoNonce, PUBLISHED_ICO_NONCE);
});

test("malformed pack values are a clear TRIAGE040 error naming the key and its line", () => {
  const cases: [string, string, RegExp][] = [
    ["rc4_key", '""', /rc4_key must be a string of 1 to 256/],
    ["rc4_key", "12", /rc4_key must be a string/],
    ["rc4_key", '"ключ"', /single-byte characters/],
    ["ico_aes_key_hex", '"21A1ACE1"', /ico_aes_key_hex must be 64 hex digits/],
    ["ico_aes_key_hex", `"${"zz".repeat(32)}"`, /ico_aes_key_hex must be 64 hex digits/],
    ["ico_aes_nonce_hex", '"3B8A08ED0F9E08CA572109"', /ico_aes_nonce_hex must be 24 hex digits/],
    ["macos_xor_key", "256", /macos_xor_key must be an integer from 0 to 255/],
    ["macos_xor_key", '"0x7A"', /macos_xor_key must be an integer/],
  ];
  for (const [key, value, expected] of cases) {
    const text = `name = "bad"\n\n[constants]\nother = 1\n${key} = ${value}\n`;
    const root = pack(text);
    assert.throws(
      () => loadTriageKeys(root),
      (error: unknown) => {
        assert.ok(isQuarryError(error));
        assert.equal(error.diagnostic.code, "TRIAGE040");
        assert.match(error.diagnostic.title, expected);
        assert.ok(error.diagnostic.title.includes(join(root, "pack.toml")));
        const label = error.diagnostic.labels[0];
        assert.ok(label, `${key}: a label on the value`);
        assert.equal(lineColumn(text, label.span.start).line, 5);
        return true;
      },
    );
  }
  const broken = pack("[constants\nrc4_key = 1\n");
  assert.throws(
    () => loadTriageKeys(broken),
    (error: unknown) =>
      isQuarryError(error) &&
      /not valid TOML/.test(error.diagnostic.title) &&
      error.diagnostic.code === "TRIAGE040",
  );
  assert.throws(() => loadTriageKeys(pack("constants = 3\n")), /\[constants\] must be a table/);
});
