// Cursor pagination over (created_at, id), newest first. A cursor names its list
// so that one list's cursor is refused by another (`invalid_cursor`), and is
// opaque base64url so clients are not tempted to build one. The position itself
// is not secret: every query stays scoped to the caller's project. The keyset condition
// itself is the repositories' (src/db/repositories/keyset.ts).
import type { PagePosition } from '../db/repositories/keyset.ts';
import { ApiError } from '../errors.ts';

export type { PagePosition };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function encodeCursor(list: string, position: PagePosition): string {
  return Buffer.from(JSON.stringify([list, position.createdAt, position.id]), 'utf8').toString('base64url');
}

export function decodeCursor(list: string, cursor: string | undefined): PagePosition | null {
  if (cursor === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      value[0] === list &&
      typeof value[1] === 'string' &&
      typeof value[2] === 'string'
    ) {
      return { createdAt: value[1], id: value[2] };
    }
  } catch {
    // fall through: any malformed cursor is the same client error
  }
  throw new ApiError(
    'invalid_cursor',
    'The cursor is malformed or belongs to another list: pass the next_cursor of the previous page unchanged.',
  );
}

/** Rows fetched with limit + 1: the extra row only says whether another page exists. */
export function toPage<Row, T>(
  list: string,
  rows: readonly Row[],
  limit: number,
  map: (row: Row) => T,
  positionOf: (row: Row) => PagePosition,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(list, positionOf(last)) : null,
  };
}

export const byCreation = (row: { created_at: string; id: string }): PagePosition => ({
  createdAt: row.created_at,
  id: row.id,
});
