// Signing-key rotation: the new key is published before it signs, then signs;
// tokens signed by the old key keep verifying until they expire, and the old key
// leaves the JWKS after that. Private keys are stored encrypted.
import { decodeProtectedHeader } from 'jose';
import { describe, expect, test } from 'vitest';
import { useIdentityServer } from '../support/api.ts';
import { HOUR, login, MINUTE, movableClock } from './support.ts';

describe('signing keys', () => {
  const time = movableClock();

  const api = useIdentityServer({ clock: time.clock });

  const jwks = async () => {
    const response = await api.as(null).GET('/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    return (response.data as { keys: Array<Record<string, string>> }).keys;
  };
  const kidOf = (token: string) => decodeProtectedHeader(token).kid;
  const verifies = async (token: string) => (await api.as(token).GET('/v1/auth/verify')).status === 200;
  const newSession = () => login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);

  test('the JWKS publishes public members only, and the kid of the tokens', async () => {
    const keys = await jwks();
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(kidOf((await newSession()).token)).toBe(keys[0]!.kid);
  });

  test('rotation: published first, signing an hour later; old tokens verify until they expire', async () => {
    const [original] = await jwks();
    const before = await newSession();
    const rotation = await api.server.server.identity.signingKeys.rotate();
    expect(Date.parse(rotation.activatesAt) - time.now()).toBe(HOUR);

    // Published at once, not signing yet.
    expect((await jwks()).map((k) => k.kid).sort()).toEqual([original!.kid, rotation.kid].sort());
    time.advance(50 * MINUTE);
    const during = await newSession();
    expect(kidOf(during.token)).toBe(original!.kid);

    // An hour after the rotation the new key signs; the old one still verifies what it signed.
    time.advance(11 * MINUTE);
    const after = await newSession();
    expect(kidOf(after.token)).toBe(rotation.kid);
    expect(await verifies(after.token)).toBe(true);
    expect(await verifies(during.token)).toBe(true);
    expect(await verifies(before.token)).toBe(false); // simply expired
    // Refreshing a session started under the old key gives a token of the new key.
    const refreshed = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: during.refresh_token } });
    expect(kidOf(refreshed.data!.data.token)).toBe(rotation.kid);

    // Once every token of the old key has expired, it leaves the JWKS and verifies nothing.
    time.advance(HOUR + MINUTE);
    expect((await jwks()).map((k) => k.kid)).toEqual([rotation.kid]);
    expect(await verifies(during.token)).toBe(false);
    expect(await verifies(after.token)).toBe(false);
    expect(await verifies((await newSession()).token)).toBe(true);
  });

  test('an immediate rotation signs at once and keeps the previous key verifying', async () => {
    const before = await newSession();
    const rotation = await api.server.server.identity.signingKeys.rotate({ immediately: true });
    const after = await newSession();
    expect(kidOf(after.token)).toBe(rotation.kid);
    expect(kidOf(before.token)).not.toBe(rotation.kid);
    expect(await verifies(before.token)).toBe(true);
    expect(await verifies(after.token)).toBe(true);
    expect((await jwks()).map((k) => k.kid)).toContain(kidOf(before.token));
  });

  test('private keys are stored encrypted, never as PEM or JWK', async () => {
    const rows = await api.server.server.database.db.selectFrom('signing_keys').selectAll().execute();
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) {
      expect(row.private_key_encrypted).toMatch(/^v2\.[A-Za-z0-9_-]{8}\./);
      expect(row.private_key_encrypted).not.toContain('PRIVATE KEY');
      expect(JSON.parse(row.public_jwk)).not.toHaveProperty('d');
    }
  });
});
