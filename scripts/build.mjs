// `npm run build`: the server as one JavaScript file, dist/main.js, bundled by esbuild
// from src/main.ts with its dependencies. Starting from it takes a fraction of what
// starting from the TypeScript sources takes (no transpiling loader, no resolution of
// hundreds of small module files). `npm start` (scripts/start.mjs) builds it when it is
// missing or older than the sources, so nobody has to remember to.
//
// Left out of the bundle, and loaded from node_modules when used: native modules
// (better-sqlite3), and what only some deployments load (pg, ioredis).
// Plain JavaScript (no tsx needed), so that scripts/start.mjs can run it.
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTFILE = path.join(ROOT, 'dist', 'main.js');
const EXTERNAL = ['better-sqlite3', 'pg', 'pg-native', 'ioredis'];

/** What the bundle is made of, besides node_modules: a newer one of these makes it stale. */
export function sourceFiles() {
  const files = [path.join(ROOT, 'package-lock.json'), path.join(ROOT, 'scripts', 'build.mjs')];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) files.push(full);
    }
  };
  walk(path.join(ROOT, 'src'));
  return files;
}

/** True when dist/main.js exists and no source is newer. */
export function isFresh() {
  let built;
  try {
    built = statSync(OUTFILE).mtimeMs;
  } catch {
    return false;
  }
  return sourceFiles().every((file) => {
    try {
      return statSync(file).mtimeMs <= built;
    } catch {
      return true;
    }
  });
}

/**
 * How a program is bundled: the server here, and the benchmark's baselines (bench/run.ts),
 * so that every server the benchmark compares runs the same way, as plain JavaScript.
 */
function bundleOptions(entryPoint, outfile) {
  return {
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: {
      js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
    },
    // Whitespace only: function names stay readable in stack traces and CPU profiles, and
    // further minifying did not start the server any faster (docs/performance.md).
    minifyWhitespace: true,
    sourcemap: 'external',
    legalComments: 'none',
    outfile,
    logLevel: 'warning',
  };
}

export async function buildServer() {
  await bundle(path.join(ROOT, 'src', 'main.ts'), OUTFILE);
}

async function bundle(entryPoint, outfile) {
  const { build, stop } = await import('esbuild');
  let result;
  try {
    result = await build({ ...bundleOptions(entryPoint, outfile), write: false });
  } finally {
    // esbuild's service process would otherwise live as long as this one: `npm start` builds, then serves.
    await stop();
  }
  mkdirSync(path.dirname(outfile), { recursive: true });
  // Written beside, then renamed: a server starting meanwhile never reads half a file.
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
}

//   node scripts/build.mjs                    the server, dist/main.js
//   node scripts/build.mjs ENTRY.ts OUT.js    another program, as the server is bundled
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const [entryPoint, outfile] = process.argv.slice(2);
  if (entryPoint && !outfile) throw new Error('usage: node scripts/build.mjs [ENTRY.ts OUT.js]');
  if (entryPoint) await bundle(path.resolve(entryPoint), path.resolve(outfile));
  else await buildServer();
  process.stdout.write(
    `built ${path.relative(ROOT, outfile ? path.resolve(outfile) : OUTFILE)} in ${Math.round(performance.now() - started)} ms\n`,
  );
}
