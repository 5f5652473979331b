// Unbiased random strings from the CSPRNG. Identifiers and secrets share this one
// source so that no caller can reach for Math.random by accident.
import { randomBytes } from 'node:crypto';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters of base62 drawn by rejection sampling (no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    // 248 = 4 * 62: bytes at or above it would favour the first characters.
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A URL-safe opaque token with `bytes` of entropy (refresh tokens, codes, CSRF tokens). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Non-negative integer in base62, left-padded with `0` to `width`. */
export function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  do {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(width, '0');
}

// Identifiers (request ids, resource ids) are drawn far more often than secrets, and a
// call to the CSPRNG per id costs more than the rest of building it. Ids therefore
// take their bytes from a pooled buffer of CSPRNG output, refilled when used up (as
// crypto.randomUUID does). Secrets never come from the pool: a memory dump must not
// reveal the bytes of secrets not issued yet.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** `length` base62 characters for an identifier (not a secret), unbiased, from the pooled CSPRNG bytes. */
export function randomIdentifier(length: number): string {
  let out = '';
  while (out.length < length) {
    if (poolOffset >= pool.length) {
      pool = randomBytes(POOL_BYTES);
      poolOffset = 0;
    }
    const byte = pool[poolOffset++]!;
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
}
