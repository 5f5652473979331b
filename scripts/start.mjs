// `npm start`: runs the server from its bundle, dist/main.js (scripts/build.mjs),
// building it first when it is missing or older than the sources. The server then
// runs in this very process, so signals sent to it (SIGTERM) reach the server. The npm
// script `exec`s node, so that this process is npm's own child, not a shell's: npm
// passes SIGTERM and SIGINT on to its child, and a shell in between would die of the
// signal and leave the server running, orphaned (test/server/npm-start.test.ts).
import { pathToFileURL } from 'node:url';
import { buildServer, isFresh, OUTFILE } from './build.mjs';

if (!isFresh()) {
  process.stderr.write('Building dist/main.js from src/ (npm run build)...\n');
  await buildServer();
}
await import(pathToFileURL(OUTFILE).href);
