// Queries of the hot path, built and compiled by Kysely once instead of on every
// request. Building a query (immutable nodes, one copy per `.where`) and compiling it
// to SQL costs several times what SQLite takes to run a small indexed query; the SQL
// of a given query shape never changes, only its values. So the query is built once
// with named markers in place of the values, compiled (for the dialect in use), and
// each execution sends the same SQL with the values in the markers' positions.
// Used for a handful of queries on every request; the rest of the code builds its
// queries as usual.
import type { Compilable, InsertObject, Kysely } from 'kysely';

const MARKER = '\u0000precompiled-parameter:';

type Slot = { name: string } | { constant: unknown };

/** Where a query runs: the database, or a transaction (`db.transaction().execute((trx) => ...)`). */
type Executor = Pick<Kysely<never>, 'executeQuery'>;

export interface Precompiled<Values extends object, Row> {
  /** On `executor` when given (a transaction), else on the database the query was compiled for. */
  execute(values: Values, executor?: Executor): Promise<Row[]>;
  executeTakeFirst(values: Values, executor?: Executor): Promise<Row | undefined>;
  /** The SQL sent every time (tests, logs). */
  readonly sql: string;
}

/**
 * `build` receives `value(name)`, to be used wherever the query takes a value; the
 * result is typed `never` (assignable to every type) so that it fits any column. Each name must be given a value at
 * execution. Values that are not markers (`is null`, literal constants) stay as built.
 */
export function precompile<Values extends object, Row>(
  db: Executor,
  build: (value: (name: keyof Values & string) => never) => Compilable<Row>,
): Precompiled<Values, Row> {
  const compiled = build((name) => `${MARKER}${name}` as never).compile();
  const slots: Slot[] = compiled.parameters.map((parameter) =>
    typeof parameter === 'string' && parameter.startsWith(MARKER)
      ? { name: parameter.slice(MARKER.length) }
      : { constant: parameter },
  );
  const execute = async (values: Values, executor: Executor = db): Promise<Row[]> => {
    const parameters = slots.map((slot) => {
      if ('constant' in slot) return slot.constant;
      if (!(slot.name in values)) throw new Error(`precompiled query: no value for "${slot.name}"`);
      return (values as Record<string, unknown>)[slot.name];
    });
    const result = await executor.executeQuery<Row>({ ...compiled, parameters });
    return result.rows;
  };
  return {
    execute,
    executeTakeFirst: async (values, executor) => (await execute(values, executor))[0],
    sql: compiled.sql,
  };
}

/**
 * `insert into <table>` of whole rows, compiled once per set of columns (the first row
 * with a given set of keys compiles it), so that a column added to the table later is
 * inserted without anyone updating a list here.
 */
export function precompiledInsert<DB, Table extends keyof DB & string>(
  db: Kysely<DB>,
  table: Table,
): (row: DB[Table], executor?: Kysely<DB>) => Promise<void> {
  const byColumns = new Map<string, Precompiled<Record<string, unknown>, unknown>>();
  return async (row, executor) => {
    // As Kysely does, a column whose value is undefined is left out.
    const columns = Object.keys(row as object).filter(
      (column) => (row as Record<string, unknown>)[column] !== undefined,
    );
    const key = columns.join(',');
    let insert = byColumns.get(key);
    if (!insert) {
      insert = precompile<Record<string, unknown>, unknown>(db, (value) =>
        db
          .insertInto(table)
          .values(Object.fromEntries(columns.map((column) => [column, value(column)])) as InsertObject<DB, Table>),
      );
      byColumns.set(key, insert);
    }
    await insert.execute(row as Record<string, unknown>, executor);
  };
}
