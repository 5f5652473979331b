// `npm run mock [-- --port 4010 --host 127.0.0.1 --dynamic]`: the mock of the
// whole API for frontend teams (src/mock/), until Ctrl-C.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { PortInUseError, startMock } from '../mock/mock-server.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', short: 'p', default: '4010' },
      host: { type: 'string', short: 'h', default: '127.0.0.1' },
      dynamic: { type: 'boolean', short: 'd', default: false },
    },
    allowPositionals: false,
  }));
} catch (error) {
  fail(
    `npm run mock: ${(error as Error).message}. Options: --port <port> (4010), --host <address> (127.0.0.1), --dynamic.`,
  );
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`npm run mock: --port must be a port number (0-65535), got ${JSON.stringify(values.port)}.`);

try {
  const mock = await startMock({
    root,
    host: values.host,
    port,
    dynamic: values.dynamic,
    onCrash: (output) => fail(`npm run mock: Prism stopped unexpectedly; its last words:\n${output.slice(-4000)}`),
  });
  process.stdout.write(
    `Mock of the AetherFlow API on ${mock.url}${values.dynamic ? ' (made-up data on every call)' : ''}. Ctrl-C stops it.\n`,
  );
  const stop = (): void => {
    mock.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  fail(error instanceof PortInUseError ? error.message : `npm run mock: ${(error as Error).message}`);
}
