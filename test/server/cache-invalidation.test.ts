// The caches of state read on every request (src/cache/) on one SQLite instance: another
// process's commit empties them before their next read; this process's own invalidations
// apply at once; a value read while an invalidation happened is not kept. A real SQLite
// file, and a second connection writing it as `npm run admin` would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localInvalidation } from '../../src/cache/invalidation.ts';
import { TaggedCache } from '../../src/cache/tagged-cache.ts';
import { openSqlite, type DatabaseHandle } from '../../src/db/database.ts';

let dir: string;
let handle: DatabaseHandle;
let other: SqliteDatabase.Database;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aetherflow-cache-'));
  handle = openSqlite(path.join(dir, 'cache.sqlite'));
  other = new SqliteDatabase(path.join(dir, 'cache.sqlite'));
  other.pragma('busy_timeout = 5000');
  other.exec('create table outside (n integer)');
});
afterAll(async () => {
  other.close();
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A cache on the file's data_version. */
function cacheOnFile(): { cache: TaggedCache<string>; invalidate: (tags: string[]) => Promise<void> } {
  const invalidation = localInvalidation(handle.externalVersion);
  const cache = new TaggedCache<string>(invalidation, { maxEntries: 10, maxAgeMs: 60_000 });
  return { cache, invalidate: (tags) => invalidation.invalidate(tags) };
}

const commitOutside = () => other.prepare('insert into outside (n) values (1)').run();

describe('a cache on one SQLite instance', () => {
  it('is emptied by another process commit before its next read', () => {
    const { cache } = cacheOnFile();
    cache.get('k');
    cache.set('k', 'v1', ['t'], cache.generation);
    expect(cache.get('k')).toBe('v1');
    commitOutside();
    expect(cache.get('k')).toBeUndefined();
  });

  it('applies this process own invalidations at once, to what they name only', async () => {
    const { cache, invalidate } = cacheOnFile();
    cache.set('k', 'v1', ['key:1'], cache.generation);
    cache.set('other', 'v2', ['key:2'], cache.generation);
    expect(cache.get('k')).toBe('v1');
    await invalidate(['key:1']);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.get('other')).toBe('v2');
  });

  it('does not keep a value read while an invalidation happened, from this process or another', async () => {
    const { cache, invalidate } = cacheOnFile();
    cache.get('k');
    let generation = cache.generation;
    await invalidate(['unrelated']);
    cache.set('k', 'read before the invalidation', ['t'], generation);
    expect(cache.get('k')).toBeUndefined();

    generation = cache.generation;
    commitOutside();
    cache.set('k', 'read before the outside commit', ['t'], generation);
    expect(cache.get('k')).toBeUndefined();
  });

  it('keeps its tag index to the entries it holds: evicted, deleted, replaced and invalidated entries leave no tag behind', async () => {
    const { cache, invalidate } = cacheOnFile();
    // maxEntries 10: the first 15 of these 25 are evicted, oldest first.
    for (let i = 0; i < 25; i++) cache.set(`k${i}`, `v${i}`, [`own:${i}`, `group:${i % 2}`], cache.generation);
    expect(cache.size).toBe(10);
    expect(cache.tagCount).toBe(12);
    expect(cache.get('k0')).toBeUndefined();
    // Replaced under other tags: its old tags no longer name it.
    cache.set('k24', 'again', ['own:new'], cache.generation);
    await invalidate(['own:24', 'group:0']);
    expect(cache.get('k24')).toBe('again');
    expect([...Array(25).keys()].filter((i) => cache.get(`k${i}`) !== undefined)).toEqual([15, 17, 19, 21, 23, 24]);
    cache.delete('k15');
    await invalidate(['group:1', 'own:new']);
    expect(cache.size).toBe(0);
    expect(cache.tagCount).toBe(0);
  });
});
