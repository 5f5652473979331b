// The settings the embedded SQLite file is opened with, read back from SQLite itself:
// durability (WAL, synchronous=NORMAL: a commit survives the process being killed, shown
// by crash-safety.test.ts) and the checkpoint policy that keeps checkpoints off most
// requests (src/db/database.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/db/database.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'aetherflow-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the SQLite file', () => {
  it('is opened in WAL mode, checkpointed every 10,000 pages, its WAL cut back to 64 MB', async () => {
    const file = path.join(dir, 'settings.sqlite');
    const handle = openSqlite(file);
    try {
      const read = async (pragma: string) => Object.values((await sql<Record<string, unknown>>`PRAGMA ${sql.raw(pragma)}`.execute(handle.db)).rows[0]!)[0];
      expect(await read('journal_mode')).toBe('wal');
      expect(await read('synchronous')).toBe(1);
      expect(await read('wal_autocheckpoint')).toBe(10_000);
      expect(await read('journal_size_limit')).toBe(64 * 1024 * 1024);
    } finally {
      await handle.close();
    }
    // WAL mode is a property of the file: another connection (npm run admin) finds it too.
    const other = new SqliteDatabase(file);
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    other.close();
  });
});
