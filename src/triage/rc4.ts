/**
 * RC4 (the standard key schedule and output generator, no dropped bytes), as used by the 3CX
 * ffmpeg.dll to decrypt the payload in d3dcompiler_47.dll. Encryption and decryption are the same
 * operation. Memory use is the 256-byte state plus the output, which is exactly the input's length.
 */

/** XORs `data` with the RC4 keystream of `key` and returns a new buffer of the same length. */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const state = scheduleKey(key);
  const output = new Uint8Array(data.length);
  let i = 0;
  let j = 0;
  for (let n = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    const si = state[i];
    j = (j + si) & 0xff;
    const sj = state[j];
    state[i] = sj;
    state[j] = si;
    output[n] = data[n] ^ state[(si + sj) & 0xff];
  }
  return output;
}

/** The first `length` keystream bytes of `key` (RC4 of `length` zero bytes). */
export function rc4Keystream(key: Uint8Array, length: number): Uint8Array {
  return rc4(key, new Uint8Array(length));
}

/** RC4 keys are 1 to 256 bytes long; anything else is a caller error, not a file problem. */
function scheduleKey(key: Uint8Array): Uint8Array {
  if (key.length < 1 || key.length > 256) {
    throw new RangeError(`RC4 key must be 1 to 256 bytes long, got ${key.length}`);
  }
  const state = new Uint8Array(256);
  for (let n = 0; n < 256; n++) state[n] = n;
  let j = 0;
  for (let n = 0; n < 256; n++) {
    j = (j + state[n] + key[n % key.length]) & 0xff;
    const swap = state[n];
    state[n] = state[j];
    state[j] = swap;
  }
  return state;
}
