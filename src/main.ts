// `npm start`: reads the configuration, opens and migrates the database, creates
// the first account on an empty one, and serves until SIGTERM or SIGINT, when it
// stops accepting connections, lets in-flight requests finish, then closes.
import type { AddressInfo } from 'node:net';
import { bootstrap } from './bootstrap.ts';
import { composeServer } from './compose.ts';
import { ConfigError, loadConfig } from './config.ts';
import { shutDownGracefully } from './graceful-shutdown.ts';
import { createListener, listen, ListenError } from './listen.ts';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const server = await composeServer(config);
  const listener = createListener(config, server.app, server.logger);
  // Listening before the first start creates its account and key: when the port is
  // taken, nothing is created whose secret would never be shown.
  await listen(listener, config.port, config.host);
  const first = await bootstrap(config, server.services.accounts, server.services.apiKeys);
  const { port } = listener.address() as AddressInfo;
  const base = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  server.logger.info({ url: base, database: server.database.dialect, environment: config.environment }, 'AetherFlow API listening');
  if (first) printFirstStart(first, base);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    server.drain();
    const force = setTimeout(() => listener.closeAllConnections(), SHUTDOWN_GRACE_MS);
    force.unref();
    shutDownGracefully(listener, () => {
      void server.close().then(
        () => server.logger.info('stopped'),
        (error: unknown) => {
          server.logger.error({ err: error }, 'error while closing');
          process.exitCode = 1;
        },
      );
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function printFirstStart(first: NonNullable<Awaited<ReturnType<typeof bootstrap>>>, base: string): void {
  const lines = [
    '',
    'First start: created an account, a project and its owner.',
    '',
    `  Owner login:  ${first.ownerEmail}${first.generatedPassword ? `  password: ${first.generatedPassword}` : '  (password from AETHERFLOW_OWNER_PASSWORD)'}`,
    `  Test API key: ${first.testKey}`,
    '',
    'Both are shown this once and stored only as hashes. Try the key:',
    '',
    `  curl ${base}/v1/workflows -H "Authorization: Bearer ${first.testKey}"`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ListenError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`AetherFlow API failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
