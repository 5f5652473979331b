// Keyset pagination in SQL: the rows strictly after a position in newest-first order.
// The cursors that carry a position are the services' (src/domain/pagination.ts).
import { sql, type RawBuilder, type SqlBool } from 'kysely';

export interface PagePosition {
  createdAt: string;
  id: string;
}

/** The keyset condition "strictly after `position` in newest-first order" on (timeColumn, id). */
export function afterPosition(position: PagePosition, timeColumn = 'created_at'): RawBuilder<SqlBool> {
  const time = sql.ref(timeColumn);
  return sql<SqlBool>`(${time} < ${position.createdAt} or (${time} = ${position.createdAt} and ${sql.ref('id')} < ${position.id}))`;
}
