// Everything the database holds, as bytes a secret could be found in: the SQLite
// file and its write-ahead log, or a pg_dump of the PostgreSQL database.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestServer } from './server.ts';

export function databaseBytes(server: TestServer): string {
  if (server.server.database.dialect === 'postgres') {
    const url = server.server.config.databaseUrl!;
    return execFileSync('pg_dump', ['--data-only', '--no-owner', url], {
      encoding: 'latin1',
      maxBuffer: 256 * 1024 * 1024,
    });
  }
  return readdirSync(server.dataDir)
    .filter((name) => name.startsWith('aetherflow.sqlite'))
    .map((name) => readFileSync(path.join(server.dataDir, name)).toString('latin1'))
    .join('\n');
}
