// The data-access rules that imports cannot show (.dependency-cruiser.cjs holds the
// rest): no query is built outside src/db/, where the repositories own the SQL, and a
// tenant filter is written in one place only, src/db/repositories/tenant-query.ts. Each
// rule is shown failing on a line that breaks it, so a scan that matched nothing could not pass.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sources(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

/** A query built with Kysely, or a unit of work's connection reached into. */
const BUILDS_A_QUERY = /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|\.trx\b|\{\s*trx\s*\}/;
/** A condition on a tenant column: `.where('project_id', ...)`, `eb('k.environment', ...)`. */
const FILTERS_BY_TENANT = /(\.where|\beb)\(\s*['"`]([a-z_]+\.)?(project_id|environment)['"`]/;

/** Every match of `pattern` in the files, by line; the whole text is searched, so a call split over lines is found too. */
function offending(files: readonly string[], pattern: RegExp): string[] {
  const everywhere = new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`);
  return files.flatMap((file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    return [...text.matchAll(everywhere)].map((match) => {
      const line = text.slice(0, match.index).split('\n').length;
      return `${file}:${line}: ${match[0].replace(/\s+/g, ' ')}`;
    });
  });
}

describe('data access', () => {
  const all = sources('src');

  it('builds queries only in src/db/', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(
      offending(
        all.filter((file) => !file.startsWith('src/db/')),
        BUILDS_A_QUERY,
      ),
    ).toEqual([]);
  });

  it('filters by tenant only in src/db/repositories/tenant-query.ts', () => {
    expect(
      offending(
        all.filter((file) => file !== 'src/db/repositories/tenant-query.ts'),
        FILTERS_BY_TENANT,
      ),
    ).toEqual([]);
    expect(offending(['src/db/repositories/tenant-query.ts'], FILTERS_BY_TENANT).length).toBeGreaterThanOrEqual(3);
  });

  it('recognises what it forbids', () => {
    expect(BUILDS_A_QUERY.test("await db.selectFrom('workflows').selectAll()")).toBe(true);
    expect(BUILDS_A_QUERY.test('await tx.trx.insertInto(table)')).toBe(true);
    expect(BUILDS_A_QUERY.test('transaction(async ({ trx }) => {')).toBe(true);
    expect(BUILDS_A_QUERY.test('await this.repository.find(tenant, id)')).toBe(false);
    expect(FILTERS_BY_TENANT.test(".where('project_id', '=', scope.projectId)")).toBe(true);
    expect(FILTERS_BY_TENANT.test("eb('k.environment', '=', env)")).toBe(true);
    expect(FILTERS_BY_TENANT.test(".where('status', '=', 'active')")).toBe(false);
    // As a formatter lays a long call out: the condition on the line after the call.
    expect(offending(['test/fixtures/lint/tenant-filter-split.ts.txt'], FILTERS_BY_TENANT)).toEqual([
      "test/fixtures/lint/tenant-filter-split.ts.txt:3: .where( 'project_id'",
    ]);
  });
});
