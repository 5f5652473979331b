// Every row of every table, as comparable text: to show that a batch of requests
// changed nothing (or only what it should), on SQLite and on PostgreSQL alike.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** Table -> its rows as JSON text (keys sorted), sorted. */
export type DatabaseSnapshot = Map<string, string[]>;

export interface SnapshotOptions {
  /** Tables left out entirely. */
  excludeTables?: string[];
  /** `table.column` values left out of every row (e.g. batched last-used times). */
  excludeColumns?: string[];
}

export async function snapshotDatabase<DB>(db: Kysely<DB>, options: SnapshotOptions = {}): Promise<DatabaseSnapshot> {
  const excludedTables = new Set(options.excludeTables ?? []);
  const excludedColumns = new Set(options.excludeColumns ?? []);
  const tables = (await db.introspection.getTables())
    .map((table) => table.name)
    .filter((name) => !excludedTables.has(name))
    .sort();
  const snapshot: DatabaseSnapshot = new Map();
  for (const table of tables) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows;
    snapshot.set(
      table,
      rows
        .map((row) =>
          JSON.stringify(
            Object.keys(row)
              .filter((column) => !excludedColumns.has(`${table}.${column}`))
              .sort()
              .map((column) => [column, normalise(row[column])]),
          ),
        )
        .sort(),
    );
  }
  return snapshot;
}

/** Dates (PostgreSQL timestamps) and buffers as text, so both dialects compare alike. */
function normalise(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export interface SnapshotDifference {
  table: string;
  added: string[];
  removed: string[];
}

/** Rows that appeared or disappeared (a changed row is both). */
export function diffSnapshots(before: DatabaseSnapshot, after: DatabaseSnapshot): SnapshotDifference[] {
  const differences: SnapshotDifference[] = [];
  for (const table of new Set([...before.keys(), ...after.keys()])) {
    const old = new Set(before.get(table) ?? []);
    const now = new Set(after.get(table) ?? []);
    const added = [...now].filter((row) => !old.has(row));
    const removed = [...old].filter((row) => !now.has(row));
    if (added.length || removed.length) differences.push({ table, added, removed });
  }
  return differences;
}
