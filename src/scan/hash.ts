/**
 * md5, sha1 and sha256 of a file, computed together from one read: over the buffer that YARA also scans
 * (files up to --max-size), or chunk by chunk for larger files (one streaming pass, bounded memory).
 */
import { createHash, type Hash } from "node:crypto";
import { readSync } from "node:fs";

export interface FileHashes {
  readonly md5: string;
  readonly sha1: string;
  readonly sha256: string;
}

export class MultiHasher {
  private readonly md5: Hash = createHash("md5");
  private readonly sha1: Hash = createHash("sha1");
  private readonly sha256: Hash = createHash("sha256");
  update(chunk: Uint8Array): void {
    this.md5.update(chunk);
    this.sha1.update(chunk);
    this.sha256.update(chunk);
  }
  digest(): FileHashes {
    return { md5: this.md5.digest("hex"), sha1: this.sha1.digest("hex"), sha256: this.sha256.digest("hex") };
  }
}

export function hashBytes(bytes: Uint8Array): FileHashes {
  const h = new MultiHasher();
  h.update(bytes);
  return h.digest();
}

export const HASH_CHUNK_BYTES = 4 << 20;

/**
 * Hash an open file from its start to EOF in chunks of `scratch.length` bytes; returns the hashes and
 * the number of bytes read (which may differ from the size stat'ed earlier if the file changed).
 */
export function hashFd(fd: number, scratch: Buffer): { hashes: FileHashes; bytes: number } {
  const h = new MultiHasher();
  let position = 0;
  for (;;) {
    const n = readSync(fd, scratch, 0, scratch.length, position);
    if (n === 0) break;
    h.update(scratch.subarray(0, n));
    position += n;
  }
  return { hashes: h.digest(), bytes: position };
}
