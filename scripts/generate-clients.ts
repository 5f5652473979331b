// Derives clients/ from generated/openapi.json (`npm run clients`):
//
//   clients/openapi-3.0.json   the contract down-converted to OpenAPI 3.0 and made
//                              palatable to code generators (the input for any language)
//   clients/python/            the Python client, by openapi-generator 4.3.1 (`python`)
//
// openapi-generator 4.3.1 is the one that works offline here: the npm package
// @openapitools/openapi-generator-cli@1.0.18-4.3.1 ships its jar (java 17 runs it).
// It reads OpenAPI 3.0 only, so @apiture/openapi-down-convert converts the 3.1
// bundle first, and `forCodegen` rewrites what that leaves and 4.3.1 cannot take.
// `--out <dir>` writes elsewhere, which is how the freshness test compares.
//
// clients/python also holds files written by hand, which generation keeps as they
// are (PYTHON_HAND_WRITTEN): the README and the `aetherflow_helpers` package
// (pagination, retries, the error envelope), which the generator does not give.
// The generated setup.py and requirements.txt still claim Python 2.7 (4.3.1's
// `python` generator has no option against it); `pythonThreeOnly` rewrites them.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Converter } from '@apiture/openapi-down-convert';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const generatorBin = path.join(root, 'node_modules', '.bin', 'openapi-generator');

/** The Python client's package (import name) and distribution name. */
export const PYTHON_PACKAGE = 'aetherflow';
const PYTHON_PROJECT = 'aetherflow-client';

/**
 * Generated files that are of no use in this repository (CI and publishing boilerplate),
 * and the generator's README, which describes a Python 2.7 package on a placeholder
 * GitHub repository; the README is written by hand instead.
 */
const PYTHON_DISCARDED = [
  '.travis.yml',
  '.gitlab-ci.yml',
  'git_push.sh',
  'tox.ini',
  'test-requirements.txt',
  'test',
  '.openapi-generator-ignore',
  'README.md',
];

/** Paths under clients/python written by hand: generation keeps them, the freshness test leaves them out. */
export const PYTHON_HAND_WRITTEN = ['README.md', 'aetherflow_helpers'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** generated/openapi.json (3.1) -> OpenAPI 3.0.3 that openapi-generator 4.3.1 reads and models correctly. */
export function downConvert(contract: object): JsonObject {
  const converted = new Converter(structuredClone(contract), { verbose: false }).convert() as JsonObject;
  return forCodegen(converted);
}

/**
 * What the down-converter leaves that 4.3.1 rejects or mis-models, rewritten with the
 * same meaning where 3.0 can say it, loosened where it cannot (the server still checks):
 * - `info.summary`, `license.identifier`: 3.1 only; dropped.
 * - `const`: an enum of one value; a boolean one (`success: true`) just a boolean,
 *   because 4.3.1's Python templates crash on boolean enums.
 * - `null` inside an `enum`: dropped (the schema is already `nullable`).
 * - `if`/`then`/`else`: dropped (conditional requirements are checked by the server).
 * - `oneOf: [X, {type: null}]`: `allOf: [X]` + `nullable: true`.
 * - a request body offered both form-encoded and as JSON (the OAuth endpoints): form
 *   only. 4.3.1 picks JSON when offered, then sends the fields as form parameters
 *   in a JSON request, which carries none of them.
 * - `items: {}` on a schema without `type` (any JSON value) is dropped: 4.3.1
 *   takes it for an array.
 * - `oneOf` of object variants (the step and trigger types, JWKs, introspection):
 *   one object with every variant's properties, `type` the union of their values,
 *   required only what every variant requires. 4.3.1's `python` generator otherwise
 *   keeps the last variant's enum and refuses every other variant's data.
 */
export function forCodegen(document: JsonObject): JsonObject {
  const info = document.info;
  if (isObject(info)) {
    delete info.summary;
    if (isObject(info.license)) delete info.license.identifier;
  }
  const schemas =
    isObject(document.components) && isObject(document.components.schemas) ? document.components.schemas : {};
  const resolve = (schema: Json): Json => {
    if (isObject(schema) && typeof schema.$ref === 'string' && schema.$ref.startsWith('#/components/schemas/')) {
      return schemas[schema.$ref.slice('#/components/schemas/'.length)] ?? schema;
    }
    return schema;
  };

  const visit = (node: Json): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    if ('const' in node) {
      const value = node.const;
      delete node.const;
      if (typeof value !== 'boolean') node.enum = [value ?? null];
    }
    if (node.type === 'boolean') delete node.enum;
    // Any JSON value: `items: {}` is there for Prism's json-schema-faker, but 4.3.1
    // reads it as "an array" and would type the value `list[object]`.
    if (!('type' in node) && isObject(node.items) && Object.keys(node.items).length === 0) delete node.items;
    if (Array.isArray(node.enum) && node.enum.includes(null)) {
      node.enum = node.enum.filter((value) => value !== null);
      node.nullable = true;
    }
    delete node.if;
    delete node.then;
    delete node.else;
    if (isObject(node.requestBody) && isObject(node.requestBody.content)) {
      const content = node.requestBody.content;
      if ('application/x-www-form-urlencoded' in content) delete content['application/json'];
    }
    if (Array.isArray(node.oneOf)) {
      const variants = node.oneOf;
      const nonNull = variants.filter((variant) => !(isObject(variant) && variant.type === 'null'));
      if (nonNull.length === 1 && variants.length === 2) {
        delete node.oneOf;
        node.allOf = nonNull;
        node.nullable = true;
      } else if (
        nonNull.every((variant) => isObject(resolve(variant)) && (resolve(variant) as JsonObject).type === 'object')
      ) {
        mergeObjectVariants(
          node,
          nonNull.map((variant) => structuredClone(resolve(variant)) as JsonObject),
        );
      }
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(document);
  return document;
}

function mergeObjectVariants(node: JsonObject, variants: JsonObject[]): void {
  const properties: JsonObject = {};
  for (const variant of variants) {
    for (const [name, property] of Object.entries(isObject(variant.properties) ? variant.properties : {})) {
      const seen = properties[name];
      if (!isObject(seen) || !isObject(property)) {
        properties[name] = structuredClone(property);
        continue;
      }
      const values = (schema: JsonObject): Json[] | undefined =>
        Array.isArray(schema.enum) ? schema.enum : 'const' in schema ? [schema.const ?? null] : undefined;
      const [left, right] = [values(seen), values(property)];
      if (left && right) {
        delete seen.const;
        seen.enum = [...new Set([...left, ...right])];
        seen.description = `One of ${seen.enum.map((value) => `\`${String(value as Exclude<Json, object>)}\``).join(', ')}.`;
      } else if (JSON.stringify(seen) !== JSON.stringify(property)) {
        // Two variants type one name differently: keep the name, drop the constraints.
        properties[name] = { description: typeof seen.description === 'string' ? seen.description : '' };
      }
    }
  }
  const requiredBy = variants.map(
    (variant) => new Set(Array.isArray(variant.required) ? (variant.required as string[]) : []),
  );
  const required = [...(requiredBy[0] ?? [])].filter((name) => requiredBy.every((set) => set.has(name)));
  delete node.oneOf;
  delete node.discriminator;
  node.type = 'object';
  node.properties = properties;
  if (required.length > 0) node.required = required;
  else delete node.required;
}

/** Replaces `search` in `file` (once), failing when a generator change moved it. */
function rewrite(file: string, search: string | RegExp, replacement: string): void {
  const text = readFileSync(file, 'utf8');
  const found = typeof search === 'string' ? text.includes(search) : search.test(text);
  if (!found)
    throw new Error(
      `${path.basename(file)}: ${String(search)} not found; update pythonThreeOnly in scripts/generate-clients.ts`,
    );
  writeFileSync(file, text.replace(search, replacement));
}

/** setup.py and requirements.txt for Python 3 only, with the hand-written README as the long description. */
function pythonThreeOnly(dir: string): void {
  const setup = path.join(dir, 'setup.py');
  rewrite(
    setup,
    'from setuptools import setup, find_packages  # noqa: H301',
    'import os\n\nfrom setuptools import setup, find_packages  # noqa: H301',
  );
  rewrite(
    setup,
    /# To install the library, run the following\n#\n# python setup.py install\n#\n# prerequisite: setuptools\n# http:\/\/pypi.python.org\/pypi\/setuptools\n/,
    '# Python 3 only. Install with `python3 -m pip install <this folder>`.\n',
  );
  rewrite(
    setup,
    / {4}long_description="""\\\n[\s\S]*?"""\n\)\n$/,
    [
      '    long_description=open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md"), encoding="utf-8").read(),',
      '    long_description_content_type="text/markdown",',
      '    python_requires=">=3.8",',
      '    classifiers=[',
      '        "Programming Language :: Python :: 3",',
      '        "Programming Language :: Python :: 3 :: Only",',
      '    ],',
      ')',
      '',
    ].join('\n'),
  );
  rewrite(path.join(dir, 'requirements.txt'), /^future; python_version<="2\.7"\n/m, '');
}

/** Writes `<outDir>/openapi-3.0.json` and `<outDir>/python/` (keeping what is hand-written there). */
export function generateClients(outDir: string): void {
  const contract = JSON.parse(readFileSync(path.join(root, 'generated', 'openapi.json'), 'utf8')) as object;
  mkdirSync(outDir, { recursive: true });
  const converted = path.join(outDir, 'openapi-3.0.json');
  writeFileSync(converted, `${JSON.stringify(downConvert(contract), null, 2)}\n`);

  const scratch = mkdtempSync(path.join(tmpdir(), 'aetherflow-python-'));
  try {
    execFileSync(
      generatorBin,
      [
        'generate',
        '--input-spec',
        converted,
        '--generator-name',
        'python',
        '--output',
        scratch,
        '--global-property',
        'apiTests=false,modelTests=false',
        '--additional-properties',
        `packageName=${PYTHON_PACKAGE},projectName=${PYTHON_PROJECT},packageVersion=1.0.0,packageUrl=https://docs.aetherflow.com,httpUserAgent=aetherflow-python/1.0.0`,
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    for (const name of PYTHON_DISCARDED) rmSync(path.join(scratch, name), { recursive: true, force: true });
    pythonThreeOnly(scratch);
    const python = path.join(outDir, 'python');
    mkdirSync(python, { recursive: true });
    for (const name of readdirSync(python)) {
      if (!PYTHON_HAND_WRITTEN.includes(name)) rmSync(path.join(python, name), { recursive: true, force: true });
    }
    cpSync(scratch, python, { recursive: true });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--out');
  const outDir = path.resolve(root, flag >= 0 ? (process.argv[flag + 1] ?? '') : 'clients');
  generateClients(outDir);
  console.log(`generated ${path.relative(root, outDir) || '.'}/openapi-3.0.json and python/ (openapi-generator 4.3.1)`);
}
