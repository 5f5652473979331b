// The OWASP API Security ruleset of .spectral.yaml, shown firing. test/fixtures/owasp/valid.yaml
// passes every rule; each mutation below takes one bound away from something a client sends
// and must produce exactly one finding, at that place, that fails `npm run lint:owasp`
// (--fail-severity=warn). This proves the rules .spectral.yaml narrows to requests still reach
// parameters, bodies, array items and map keys through $refs, while the fixture's response
// schema, which has no bounds at all, is left alone. The real contract is linted in the same
// Spectral run (about 3 s for all files) and must pass.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const spectral = path.join(root, 'node_modules', '.bin', 'spectral');
const contract = path.join(root, 'generated', 'openapi.json');
const validFixture = path.join(root, 'test', 'fixtures', 'owasp', 'valid.yaml');

type Json = Record<string, unknown>;
interface SpectralResult {
  code: string;
  message: string;
  path: string[];
  /** 0 error, 1 warning, 2 information, 3 hint. */
  severity: number;
  source: string;
}

interface Mutation {
  /** Where, in the fixture, a bound is taken away (the last segment is the keyword deleted). */
  remove: (string | number)[];
  rule: string;
  /** Where Spectral must report it: the schema that lost its bound. */
  at: string;
}

const notes = ['paths', '/notes', 'get', 'parameters'];
const input = ['components', 'schemas', 'NoteInput', 'properties'];
const mutations: Record<string, Mutation> = {
  'a query parameter without maxLength': {
    remove: [...notes, 0, 'schema', 'maxLength'],
    rule: 'owasp:api4:2023-string-limit',
    at: 'paths./notes.get.parameters.0.schema',
  },
  'a header parameter without maxLength': {
    remove: [...notes, 2, 'schema', 'maxLength'],
    rule: 'owasp:api4:2023-string-limit',
    at: 'paths./notes.get.parameters.2.schema',
  },
  'a query parameter with neither pattern nor format': {
    remove: [...notes, 0, 'schema', 'pattern'],
    rule: 'owasp:api4:2023-string-restricted',
    at: 'paths./notes.get.parameters.0.schema',
  },
  'an integer parameter without format': {
    remove: [...notes, 1, 'schema', 'format'],
    rule: 'owasp:api4:2023-integer-format',
    at: 'paths./notes.get.parameters.1.schema',
  },
  'an integer parameter without maximum': {
    remove: [...notes, 1, 'schema', 'maximum'],
    rule: 'owasp:api4:2023-integer-limit',
    at: 'paths./notes.get.parameters.1.schema',
  },
  'a body field without maxLength (in a $ref schema)': {
    remove: [...input, 'text', 'maxLength'],
    rule: 'owasp:api4:2023-string-limit',
    at: 'components.schemas.NoteInput.properties.text',
  },
  'array items without maxLength': {
    remove: [...input, 'labels', 'items', 'maxLength'],
    rule: 'owasp:api4:2023-string-limit',
    at: 'components.schemas.NoteInput.properties.labels.items',
  },
  'an array without maxItems': {
    remove: [...input, 'labels', 'maxItems'],
    rule: 'owasp:api4:2023-array-limit',
    at: 'components.schemas.NoteInput.properties.labels',
  },
  'map keys (propertyNames) without maxLength': {
    remove: [...input, 'attributes', 'propertyNames', 'maxLength'],
    rule: 'owasp:api4:2023-string-limit',
    at: 'components.schemas.NoteInput.properties.attributes.propertyNames',
  },
  'map values without maxLength': {
    remove: [...input, 'attributes', 'additionalProperties', 'maxLength'],
    rule: 'owasp:api4:2023-string-limit',
    at: 'components.schemas.NoteInput.properties.attributes.additionalProperties',
  },
  'a nullable integer field (type: [integer, null]) without format': {
    remove: [...input, 'priority', 'format'],
    rule: 'owasp:api4:2023-integer-format',
    at: 'components.schemas.NoteInput.properties.priority',
  },
};

function mutated(document: Json, remove: (string | number)[]): Json {
  const copy = structuredClone(document);
  let node: unknown = copy;
  for (const key of remove.slice(0, -1)) node = (node as Json)[key];
  const last = remove.at(-1)!;
  if (!(node !== null && typeof node === 'object' && last in node))
    throw new Error(`the fixture has nothing at ${remove.join('.')}`);
  delete (node as Json)[last];
  return copy;
}

function run(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(spectral, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'aetherflow-owasp-'));
const fileOf = (name: string) => path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.json`);
const fixture = parse(readFileSync(validFixture, 'utf8')) as Json;
let results: SpectralResult[] = [];

beforeAll(async () => {
  for (const [name, { remove }] of Object.entries(mutations))
    writeFileSync(fileOf(name), JSON.stringify(mutated(fixture, remove), null, 2));
  const report = path.join(dir, 'report.json');
  const files = [contract, validFixture, ...Object.keys(mutations).map(fileOf)];
  const { status, stderr } = await run([
    'lint',
    ...files,
    '--ruleset',
    '.spectral.yaml',
    '--format',
    'json',
    '--output',
    report,
    '--quiet',
  ]);
  // 1 = findings at or above the fail severity (the mutations have some); 2 = Spectral itself failed.
  expect(status, stderr).toBe(1);
  results = JSON.parse(readFileSync(report, 'utf8')) as SpectralResult[];
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failing = (r: SpectralResult) => r.severity <= 1;
const resultsFor = (file: string) => results.filter((r) => r.source === file);
const lines = (rs: SpectralResult[]) =>
  rs.map((r) => `${r.code} (severity ${r.severity}) at ${r.path.join('.')}: ${r.message}`);

describe('generated/openapi.json', () => {
  it('has no error or warning (npm run lint:owasp passes)', () => {
    expect(lines(resultsFor(contract).filter(failing))).toEqual([]);
  });
});

describe('test/fixtures/owasp/valid.yaml', () => {
  it('breaks no rule, though its response schema has unbounded strings and integers', () => {
    expect(lines(resultsFor(validFixture))).toEqual([]);
  });
});

describe.each(Object.entries(mutations))('%s', (name, { rule, at }) => {
  it(`fails ${rule}, once, at ${at}`, () => {
    const found = resultsFor(fileOf(name));
    expect(lines(found)).toEqual([
      expect.stringMatching(
        new RegExp(`^${rule} \\(severity [01]\\) at ${at.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:`),
      ),
    ]);
  });
});

describe('.spectral.yaml', () => {
  const config = parse(readFileSync(path.join(root, '.spectral.yaml'), 'utf8')) as { overrides: { files: string[] }[] };
  const document = JSON.parse(readFileSync(contract, 'utf8')) as Json;

  // A pointer left behind by a renamed path or component would exempt nothing, silently.
  it('points every override at something that exists in generated/openapi.json', () => {
    const dangling = config.overrides
      .flatMap((o) => o.files)
      .filter((file) => {
        const [source, pointer = ''] = file.split('#');
        if (source !== 'generated/openapi.json') return true;
        const keys = pointer
          .split('/')
          .slice(1)
          .map((k) => decodeURIComponent(k).replaceAll('~1', '/').replaceAll('~0', '~'));
        let node: unknown = document;
        for (const key of keys) node = node !== null && typeof node === 'object' ? (node as Json)[key] : undefined;
        return node === undefined;
      });
    expect(dangling).toEqual([]);
  });
});
