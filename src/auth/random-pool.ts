import { randomFillSync } from 'node:crypto';

/**
 * Random strings for ids and session tokens, cut from a buffer filled from the CSPRNG 4 KiB at a
 * time: one `randomBytes` call per registration cost ~9 µs, most of it per call, not per byte.
 * Every byte is handed out once.
 */
export class RandomPool {
  private readonly pool: Buffer;
  private at: number;

  constructor(size = 4096) {
    this.pool = Buffer.alloc(size);
    this.at = size;
  }

  /** `bytes` random bytes as base64url. */
  secret(bytes: number): string {
    if (bytes > this.pool.length) return randomFillSync(Buffer.alloc(bytes)).toString('base64url');
    if (this.at + bytes > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const out = this.pool.toString('base64url', this.at, this.at + bytes);
    this.at += bytes;
    return out;
  }
}
