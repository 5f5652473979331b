// `npm start`: runs the server from its bundle, dist/main.js (scripts/build.mjs),
// building it first when it is missing or older than the sources. The server then
// runs in this very process, so signals sent to it (SIGTERM) reach the server.
import { pathToFileURL } from 'node:url';
import { buildServer, isFresh, OUTFILE } from './build.mjs';

if (!isFresh()) {
  process.stderr.write('Building dist/main.js from src/ (npm run build)...\n');
  await buildServer();
}
await import(pathToFileURL(OUTFILE).href);
