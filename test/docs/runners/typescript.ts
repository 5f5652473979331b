// Runs TypeScript guide examples one after another in this one process (started
// with `node --import tsx`), so that a few dozen examples do not pay for a
// process and a TypeScript loader each. Each file is imported as written, with
// its own environment in process.env and its output captured; one JSON line per
// example on stdout: { file, code, output }.
//
//   node --import tsx test/docs/runners/typescript.ts jobs.json
//   jobs.json: [{ "file": "/abs/example.ts", "env": { "AETHERFLOW_API_URL": "..." } }, ...]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

interface Job {
  file: string;
  env: Record<string, string>;
}

const jobs = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as Job[];
const write = process.stdout.write.bind(process.stdout);
const originalEnv = { ...process.env };
const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
const originals = Object.fromEntries(methods.map((method) => [method, console[method].bind(console)]));

for (const job of jobs) {
  let output = '';
  for (const method of methods) console[method] = (...args: unknown[]) => void (output += `${format(...args)}\n`);
  process.env = { ...originalEnv, ...job.env };
  let code = 0;
  try {
    await import(pathToFileURL(job.file).href);
  } catch (error) {
    code = 1;
    output += `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
  } finally {
    for (const method of methods) console[method] = originals[method] as (typeof console)[typeof method];
    process.env = originalEnv;
  }
  write(`${JSON.stringify({ file: job.file, code, output })}\n`);
}
