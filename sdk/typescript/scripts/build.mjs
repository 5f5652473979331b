// Builds the package into dist/: ESM JavaScript and declarations compiled from
// src/, and the contract's types beside them. Those live outside this package
// (generated/api.d.ts, written by `npm run generate`), so they are copied in and
// the one import of them is pointed at the copy: the tarball `npm pack` makes
// then stands alone. `npm pack` runs this first (prepack); nothing else needs
// dist/, because this repository's own code imports the sources.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(packageDir, 'dist');
const contract = path.resolve(packageDir, '..', '..', 'generated', 'api.d.ts');
const contractImport = "'../../../generated/api.js'";

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(packageDir, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

copyFileSync(contract, path.join(dist, 'api.d.ts'));
const typesFile = path.join(dist, 'types.d.ts');
const types = readFileSync(typesFile, 'utf8');
if (!types.includes(contractImport))
  throw new Error(`${typesFile} no longer imports ${contractImport}: update scripts/build.mjs`);
writeFileSync(typesFile, types.replace(contractImport, "'./api.js'"));
