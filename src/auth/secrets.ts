import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Secrets are stored only as SHA-256 hashes: they are long random strings, so no slow KDF is needed. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function matchesHash(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** API keys read `slp_<id>_<secret>`: the id finds the stored hash, the secret proves the holder. */
export function newApiKey(): { id: string; key: string; hash: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomSecret(24);
  return { id, key: `slp_${id}_${secret}`, hash: hashSecret(secret) };
}

export function parseApiKey(key: string): { id: string; secret: string } | null {
  const m = /^slp_([0-9a-f]{12})_([A-Za-z0-9_-]{16,})$/.exec(key);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Constant-time comparison of two secrets. */
export function safeEqual(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(hashSecret(given), 'hex');
  const b = Buffer.from(hashSecret(expected), 'hex');
  return timingSafeEqual(a, b);
}
