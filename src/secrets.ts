// The server-side secrets: from the environment, or, outside production only,
// generated on first start and kept in the data directory (mode 0600) so that
// keys and connections survive restarts of a development server.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';

export interface ServerSecrets {
  hashSecret: Buffer;
  encryptionKey: Buffer;
  previousHashSecrets: Buffer[];
  previousEncryptionKeys: Buffer[];
}

export function resolveSecrets(config: Config): ServerSecrets {
  const previous = {
    previousHashSecrets: config.previousHashSecrets,
    previousEncryptionKeys: config.previousEncryptionKeys,
  };
  if (config.hashSecret && config.encryptionKey)
    return { hashSecret: config.hashSecret, encryptionKey: config.encryptionKey, ...previous };
  if (config.environment === 'production') {
    // loadConfig already refuses this; kept so no path can start production on generated secrets.
    throw new Error('AETHERFLOW_HASH_SECRET and AETHERFLOW_ENCRYPTION_KEY are required in production');
  }
  const file = path.join(config.dataDir, 'secrets.json');
  let stored: { hash_secret?: string; encryption_key?: string } = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
  if (!stored.hash_secret || !stored.encryption_key) {
    stored = {
      hash_secret: randomBytes(32).toString('base64'),
      encryption_key: randomBytes(32).toString('base64'),
      ...stored,
    };
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  return {
    hashSecret: config.hashSecret ?? Buffer.from(stored.hash_secret!, 'base64'),
    encryptionKey: config.encryptionKey ?? Buffer.from(stored.encryption_key!, 'base64'),
    ...previous,
  };
}
