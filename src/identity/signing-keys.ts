// The keys that sign access tokens (ES256). Stored in the database so that every
// instance signs and verifies with the same ones: the public JWK in clear, the
// private key encrypted with AES-256-GCM under the server's encryption key (the
// kid as associated data).
//
// Rotation, without breaking anyone: the new key is published in the JWKS at
// once but only starts signing an hour later (the time verifiers may cache the
// JWKS), and the previous key keeps verifying (and stays published) until every
// token it signed has expired. `immediately` makes the new key sign at once, for
// when the old one must stop signing now.
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import type { Encryptor } from '../crypto/aes-gcm.ts';
import { randomBase62 } from '../crypto/random.ts';
import type { SigningKeyRepository, SigningKeyRow } from '../db/repositories/signing-keys.ts';
import type { Transaction, Tx } from '../db/transaction.ts';
import { iso, type Clock } from '../domain/time.ts';
import { ACCESS_TOKEN_AFTERLIFE_MS } from './token-lifetimes.ts';

export const SIGNING_ALGORITHM = 'ES256';
/** How long a new key is published before it signs: the JWKS's Cache-Control max-age. */
export const KEY_PUBLICATION_LEAD_MS = 60 * 60 * 1000;

export interface PublicSigningKey {
  kid: string;
  algorithm: typeof SIGNING_ALGORITHM;
  jwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string; use: 'sig'; alg: typeof SIGNING_ALGORITHM };
  key: CryptoKey;
}

export interface ActiveSigningKey {
  kid: string;
  algorithm: typeof SIGNING_ALGORITHM;
  privateKey: CryptoKey;
}

export interface Rotation {
  kid: string;
  activatesAt: string;
}

/** How long an instance trusts its copy of the key set before reading it again (a rotation by another instance). */
const RELOAD_AFTER_MS = 60_000;
/** An unknown kid makes an instance reread the set, at most this often (an attacker's kids cost nothing). */
const UNKNOWN_KID_RELOAD_MS = 5_000;

type SigningKeysTable = SigningKeyRow;

interface LoadedKey {
  row: SigningKeysTable;
  published: PublicSigningKey;
  privateKey?: CryptoKey;
}

export class SigningKeys {
  #loaded: { at: number; keys: LoadedKey[] } | null = null;
  #lastUnknownKidReload = 0;

  constructor(
    private readonly repository: SigningKeyRepository,
    private readonly encryptor: Encryptor,
    private readonly clock: Clock,
    /** Runs a rotation as one unit of work. */
    private readonly transaction: Transaction,
  ) {}

  /** Creates the first key when there is none (first start). */
  async ensureKey(): Promise<void> {
    if (!(await this.repository.anyUnretired())) await this.repository.insert(await this.newKey(this.clock()));
    this.#loaded = null;
  }

  /** Publishes a new key that takes over signing after the publication lead (or at once). */
  async rotate(options: { immediately?: boolean } = {}): Promise<Rotation> {
    const activatesAt = this.clock() + (options.immediately ? 0 : KEY_PUBLICATION_LEAD_MS);
    const next = await this.newKey(activatesAt);
    // Keys not yet signing are replaced by this one; the signing key retires when it activates.
    await this.transaction((tx) => this.repository.rotate(next, iso(this.clock()), tx));
    this.#loaded = null;
    return { kid: next.kid, activatesAt: iso(activatesAt) };
  }

  /** The key that signs now: the most recently activated one. */
  active(): Promise<ActiveSigningKey> {
    return this.activeFrom(() => this.load(false, (after) => this.repository.usable(after)));
  }

  /** The same, in `tx`, a unit of work that signs (on SQLite's one connection, a read on the database would wait for it). */
  activeIn(tx: Tx): Promise<ActiveSigningKey> {
    return this.activeFrom(() => this.load(false, (after) => this.repository.usableIn(after, tx)));
  }

  private async activeFrom(loading: () => Promise<LoadedKey[]>): Promise<ActiveSigningKey> {
    const now = this.clock();
    const key = (await loading()).find((k) => Date.parse(k.row.activates_at) <= now);
    if (!key) throw new Error('no active token signing key: the server must call ensureKey() at start-up');
    key.privateKey ??= await importPKCS8(
      this.encryptor.decrypt(key.row.private_key_encrypted, associatedData(key.row.kid)),
      key.row.algorithm,
    );
    return { kid: key.row.kid, algorithm: key.row.algorithm, privateKey: key.privateKey };
  }

  /** The key that verifies tokens naming `kid`, or null (unknown, or retired longer than a token lives). */
  verificationKey(kid: string): Promise<PublicSigningKey | null> {
    return this.verificationKeyFrom(kid, (after) => this.repository.usable(after));
  }

  /** The same, in `tx`, a unit of work that verifies a token (a revocation). */
  verificationKeyIn(kid: string, tx: Tx): Promise<PublicSigningKey | null> {
    return this.verificationKeyFrom(kid, (after) => this.repository.usableIn(after, tx));
  }

  private async verificationKeyFrom(
    kid: string,
    read: (retiredAfter: string) => Promise<SigningKeysTable[]>,
  ): Promise<PublicSigningKey | null> {
    let found = (await this.load(false, read)).find((k) => k.row.kid === kid);
    if (!found && this.clock() - this.#lastUnknownKidReload >= UNKNOWN_KID_RELOAD_MS) {
      this.#lastUnknownKidReload = this.clock();
      found = (await this.load(true, read)).find((k) => k.row.kid === kid);
    }
    return found && this.stillVerifies(found.row) ? found.published : null;
  }

  /** The JWKS: the signing key, the next one, and retired keys whose tokens may still be valid. */
  async publicKeys(): Promise<PublicSigningKey[]> {
    return (await this.load(false, (after) => this.repository.usable(after)))
      .filter((k) => this.stillVerifies(k.row))
      .map((k) => k.published);
  }

  private stillVerifies(row: SigningKeysTable): boolean {
    return row.retired_at === null || Date.parse(row.retired_at) > this.clock() - ACCESS_TOKEN_AFTERLIFE_MS;
  }

  /** Every key that is or may again be useful, newest activation first. */
  private async load(
    force: boolean,
    read: (retiredAfter: string) => Promise<SigningKeysTable[]>,
  ): Promise<LoadedKey[]> {
    const now = this.clock();
    if (!force && this.#loaded && now - this.#loaded.at < RELOAD_AFTER_MS && now >= this.#loaded.at)
      return this.#loaded.keys;
    const rows = await read(iso(now - ACCESS_TOKEN_AFTERLIFE_MS - RELOAD_AFTER_MS));
    const previous = new Map((this.#loaded?.keys ?? []).map((k) => [k.row.kid, k]));
    const keys: LoadedKey[] = [];
    for (const row of rows) {
      const known = previous.get(row.kid);
      if (known && known.row.retired_at === row.retired_at) {
        keys.push(known);
        continue;
      }
      const jwk = JSON.parse(row.public_jwk) as { kty: 'EC'; crv: 'P-256'; x: string; y: string };
      const key = await importJWK({ ...jwk, alg: row.algorithm }, row.algorithm);
      keys.push({
        row,
        published: {
          kid: row.kid,
          algorithm: row.algorithm,
          jwk: { ...jwk, kid: row.kid, use: 'sig', alg: row.algorithm },
          key,
        },
      });
    }
    this.#loaded = { at: now, keys };
    return keys;
  }

  /** A new key pair, its private key sealed, to activate at `activatesAt`. */
  private async newKey(activatesAt: number): Promise<SigningKeysTable> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const now = this.clock();
    const kid = `${iso(now).slice(0, 10)}-es256-${randomBase62(8)}`;
    const jwk: JWK = await exportJWK(publicKey);
    return {
      kid,
      algorithm: SIGNING_ALGORITHM,
      public_jwk: JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }),
      private_key_encrypted: this.encryptor.encrypt(await exportPKCS8(privateKey), associatedData(kid)),
      created_at: iso(now),
      activates_at: iso(activatesAt),
      retired_at: null,
    };
  }
}

/** What a signing key's private key is sealed with: bound to its kid. */
export function associatedData(kid: string): string {
  return `signing-key:${kid}`;
}
