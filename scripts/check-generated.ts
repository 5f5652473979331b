// Fails when generated/ is not exactly what `npm run generate` would write now:
// someone edited openapi/ without regenerating, or hand-edited generated/.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const committed = path.join(root, 'generated');
const fresh = mkdtempSync(path.join(tmpdir(), 'aetherflow-generated-'));

try {
  generate(fresh);
  const names = new Set([...readdirSync(fresh), ...safeList(committed)]);
  const stale = [...names].filter((name) => !sameFile(path.join(fresh, name), path.join(committed, name)));
  if (stale.length > 0) {
    console.error(
      `generated/ is stale: ${stale.join(', ')} differ from openapi/. Run \`npm run generate\` and commit.`,
    );
    process.exitCode = 1;
  } else {
    console.log('generated/ is fresh');
  }
} finally {
  rmSync(fresh, { recursive: true, force: true });
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}
