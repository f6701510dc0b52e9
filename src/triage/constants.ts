/**
 * Published facts about the 3CX (SUDDENICON / ICONIC / SmoothOperator) artefacts that triage decodes.
 * Triage decodes with the 3CX pack's `[constants]` (pack-keys.ts); these built-in copies of the same
 * published values are used only for a value the pack does not carry, and by tests as known answers.
 * The CLI's `--key` / `--nonce` override both.
 * Sources and the layouts behind them: /work/shared/content/FACTS.md (§3 carrier, §4 ICO, §6 macOS).
 */

/** RC4 key of the d3dcompiler_47.dll payload: the 12 ASCII bytes `3jB(2bsG#@c7`, no terminator. */
export const CARRIER_RC4_KEY: Uint8Array = Uint8Array.from(Buffer.from("3jB(2bsG#@c7", "latin1"));

/** The 4-byte marker that precedes the encrypted payload; SigFlip writes it twice. */
export const FEEDFACE_MARKER: Uint8Array = Uint8Array.of(0xfe, 0xed, 0xfa, 0xce);

/** The byte SigFlip pads its blob with (ASCII `'0'`), so that file size + blob size is a multiple of 8. */
export const SIGFLIP_PADDING_BYTE = 0x30;

/** The ASCII PDB name Elastic's rule `bdae76c9` pairs with the doubled marker. */
export const D3DCOMPILER_PDB_NAME = "D3DCompiler_47.pdb";

/** AES-256-GCM key of the IconStorages ICO tails (published by Volexity). */
export const ICO_AES_KEY: Uint8Array = Uint8Array.from(
  Buffer.from("21A1ACE1E663BA45864DF457B209181EBD90101B4A512840387CD210E58FA3F1", "hex"),
);

/** The fixed 12-byte AES-GCM nonce of the IconStorages ICO tails. */
export const ICO_GCM_NONCE: Uint8Array = Uint8Array.from(Buffer.from("3B8A08ED0F9E08CA572109EF", "hex"));

/** Decoded ICO tail: [4-byte prefix][16-byte GCM tag][ciphertext]. */
export const ICO_PREFIX_LENGTH = 4;
export const ICO_GCM_TAG_LENGTH = 16;

/** The byte every macOS `.main_storage` byte is XORed with. */
export const MAIN_STORAGE_XOR_KEY = 0x7a;

/** `.main_storage` is written with `fwrite(buf, 0x38, 1, f)`: exactly 56 bytes. */
export const MAIN_STORAGE_SIZE = 56;
