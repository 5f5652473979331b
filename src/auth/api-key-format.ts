// The API key format of PRODUCT.md: `{type}_{env}_{32 base62}{6-char checksum}`.
// The checksum is CRC-32 of everything before it, in base62, left-padded to 6, so
// a mistyped or invented key is refused without touching the database, and
// secret scanners can recognise real keys. Legacy keys are `wfk_` + 32 characters.
import { crc32 } from 'node:zlib';
import { randomBase62, toBase62 } from '../crypto/random.ts';

export type ApiKeyType = 'secret' | 'restricted' | 'client';
export type Environment = 'live' | 'test';

const PREFIX_OF: Record<ApiKeyType, string> = { secret: 'sk', restricted: 'rk', client: 'ck' };
const TYPE_OF: Record<string, ApiKeyType> = { sk: 'secret', rk: 'restricted', ck: 'client' };

const KEY_PATTERN = /^(sk|rk|ck)_(live|test)_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;
const LEGACY_PATTERN = /^wfk_[0-9A-Za-z]{32}$/;

export type ParsedApiKey = { kind: 'modern'; type: ApiKeyType; environment: Environment } | { kind: 'legacy' };

export function checksumOf(body: string): string {
  return toBase62(crc32(body), 6);
}

export function generateApiKey(type: ApiKeyType, environment: Environment): string {
  const body = `${PREFIX_OF[type]}_${environment}_${randomBase62(32)}`;
  return body + checksumOf(body);
}

/** What the key claims to be, or null when it is not a well-formed key with a valid checksum. */
export function parseApiKey(candidate: string): ParsedApiKey | null {
  if (LEGACY_PATTERN.test(candidate)) return { kind: 'legacy' };
  const match = KEY_PATTERN.exec(candidate);
  if (!match) return null;
  const [, prefix, environment, random, checksum] = match as unknown as [string, string, Environment, string, string];
  if (checksumOf(`${prefix}_${environment}_${random}`) !== checksum) return null;
  return { kind: 'modern', type: TYPE_OF[prefix]!, environment };
}

/** Display fields kept beside the hash: the first 12 characters and the last 4. */
export function displayParts(secret: string): { prefix: string; last4: string } {
  return { prefix: secret.slice(0, 12), last4: secret.slice(-4) };
}
