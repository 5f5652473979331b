// Password hashing with scrypt (node:crypto), a memory-hard KDF: N=2^15, r=8, p=1
// uses 32 MiB and about 60-100 ms per hash here, which makes offline guessing
// costly while keeping a login fast. Parameters are stored with each hash, so they
// can be raised later without breaking existing passwords.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { ...options, maxmem: 128 * options.N! * options.r! * 2 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Verifies a login's password against the user's hash, or against a decoy hash
 * when there is no such user, so the answer takes as long either way and timing
 * does not tell whether an email is registered.
 */
export class PasswordChecker {
  #decoy: Promise<string> | null = null;

  async check(password: string, stored: string | null): Promise<boolean> {
    if (stored !== null) return verifyPassword(password, stored);
    this.#decoy ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(password, await this.#decoy);
    return false;
  }
}
