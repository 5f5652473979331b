// Derives generated/ from openapi/: the bundled contract (what the server, Prism
// and the docs load) and its TypeScript types. `--out <dir>` writes elsewhere,
// which is how the freshness check compares without touching generated/.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

export function generate(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const bundled = path.join(outDir, 'openapi.json');
  execFileSync(bin('redocly'), ['bundle', 'openapi/openapi.yaml', '--output', bundled, '--ext', 'json'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Fields with a `default` stay optional: request bodies may omit them (the server
  // fills them in), which openapi-typescript's default would forbid.
  execFileSync(
    bin('openapi-typescript'),
    [bundled, '--output', path.join(outDir, 'api.d.ts'), '--default-non-nullable', 'false'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--out');
  const outDir = path.resolve(root, flag >= 0 ? (process.argv[flag + 1] ?? '') : 'generated');
  generate(outDir);
  console.log(`generated ${path.relative(root, outDir) || '.'}/openapi.json and api.d.ts`);
}
