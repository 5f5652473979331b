// `npm run check` must fail when openapi/ changed but generated/ was not
// regenerated. Shown on a copy of the repository, so the real tree is untouched.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let copy: string;

function checkGenerated(): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/check-generated.ts'], {
    cwd: copy,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('generated/ freshness check', () => {
  beforeAll(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'aetherflow-freshness-'));
    for (const entry of ['openapi', 'generated', 'scripts', 'redocly.yaml', 'package.json', 'tsconfig.json']) {
      cpSync(path.join(root, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  test('passes on the committed tree', () => {
    const result = checkGenerated();
    expect(result.output).toContain('generated/ is fresh');
    expect(result.status).toBe(0);
  });

  test('fails after an edit of openapi/ without `npm run generate`', () => {
    const file = path.join(copy, 'openapi', 'paths', 'health.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('summary: Check service health', 'summary: Check the health of the service'));
    const result = checkGenerated();
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/generated\/ is stale: .*openapi\.json/);
  });
});
