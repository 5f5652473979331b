// PKCE (RFC 7636), S256 only: `plain` would hand the verifier to whoever sees the
// authorization request, so it is refused.
import { createHash } from 'node:crypto';
import { safeEqual } from '../crypto/keyed-hash.ts';

/** BASE64URL(SHA-256(verifier)) is always 43 characters. */
export const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 section 4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function verifierMatches(verifier: string, challenge: string): boolean {
  return VERIFIER.test(verifier) && safeEqual(s256(verifier), challenge);
}
