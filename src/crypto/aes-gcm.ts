// Authenticated encryption of connection credentials and signing keys at rest:
// AES-256-GCM with a fresh 96-bit IV per message and the record's id as associated
// data, so a ciphertext copied onto another row does not decrypt.
//
// Envelope `v2.<key id>.<iv>.<tag>.<ciphertext>`: the key id (a hash prefix of the
// key) says which key sealed it, so the key can be rotated: new data is sealed
// with the current key, older data opens with a previous key
// (AETHERFLOW_ENCRYPTION_KEY_PREVIOUS) until `npm run admin -- reencrypt` reseals it.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface Encryptor {
  encrypt(plaintext: string, associatedData: string): string;
  decrypt(sealed: string, associatedData: string): string;
  /** Whether `sealed` was sealed with the current key. */
  isCurrent(sealed: string): boolean;
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

export function aesGcmEncryptor(key: Buffer, previous: readonly Buffer[] = []): Encryptor {
  for (const k of [key, ...previous]) if (k.length !== 32) throw new Error('AES-256-GCM needs 32-byte keys');
  const current = keyId(key);
  const byId = new Map([key, ...previous].map((k) => [keyId(k), k] as const));

  const open = (k: Buffer, iv: string, tag: string, ciphertext: string, associatedData: string): string => {
    const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  };

  return {
    encrypt(plaintext, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v2', current, ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url'))].join(
        '.',
      );
    },
    decrypt(sealed, associatedData) {
      const parts = sealed.split('.');
      if (parts[0] === 'v2' && parts.length === 5) {
        const k = byId.get(parts[1]!);
        if (!k)
          throw new Error(
            `sealed with an unknown key (${parts[1]}): configure it in AETHERFLOW_ENCRYPTION_KEY_PREVIOUS`,
          );
        return open(k, parts[2]!, parts[3]!, parts[4]!, associatedData);
      }
      throw new Error('not an AES-GCM envelope');
    },
    isCurrent(sealed) {
      return sealed.startsWith(`v2.${current}.`);
    },
  };
}
