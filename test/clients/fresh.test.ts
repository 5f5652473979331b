// clients/ is committed and derived from the contract: it must be exactly what
// `npm run clients` writes now (like generated/, which `npm run check` compares).
// A test rather than part of `npm run check`, because openapi-generator takes ~10 s.
// What is written by hand in clients/python (PYTHON_HAND_WRITTEN) is not compared:
// generation keeps it, and a fresh generation elsewhere has none of it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { generateClients, PYTHON_HAND_WRITTEN } from '../../scripts/generate-clients.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const fresh = mkdtempSync(path.join(tmpdir(), 'aetherflow-clients-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

function files(dir: string, prefix = ''): string[] {
  // Bytecode that running the client leaves behind is not part of it (and git ignores it).
  return readdirSync(dir).filter((name) => name !== '__pycache__').flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

test('clients/ is what `npm run clients` generates from generated/openapi.json', () => {
  generateClients(fresh);
  const committed = path.join(root, 'clients');
  const expected = files(fresh).sort();
  const handWritten = (file: string) => PYTHON_HAND_WRITTEN.some((name) => file === `python/${name}` || file.startsWith(`python/${name}/`));
  expect(expected.filter(handWritten), 'the generator writes a hand-written path').toEqual([]);
  expect(files(committed).filter((file) => !handWritten(file)).sort(), 'files added or removed: run `npm run clients` and commit clients/').toEqual(expected);
  const stale = expected.filter((file) => !readFileSync(path.join(fresh, file)).equals(readFileSync(path.join(committed, file))));
  expect(stale, 'stale files: run `npm run clients` and commit clients/').toEqual([]);
}, 120_000);
