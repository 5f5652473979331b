// `npm start`: reads the configuration, opens and migrates the database, creates
// the first account on an empty one, and serves until SIGTERM or SIGINT. Then, all
// within SHUTDOWN_TIMEOUT_MS of the signal: /health answers 503 and every answer closes
// its connection for SHUTDOWN_DRAIN_MS while new connections are still accepted (a load
// balancer stops sending); then it stops accepting, lets in-flight requests finish, and
// closes each resource on its own. Exit 0 when everything closed; 1 when a step failed,
// or when the deadline passed, with a log line naming what it was still waiting for.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { bootstrap } from './bootstrap.ts';
import { composeServer, type Server } from './compose.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { closeConnectionsAfterAnswers, shutDownGracefully } from './graceful-shutdown.ts';
import { createListener, listen, ListenError } from './listen.ts';
import { ShutdownSteps } from './shutdown-steps.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const server = await composeServer(config);
  reportWhatEscapes(server.logger);
  const listener = createListener(config, server.app, server.logger);
  // Listening before the first start creates its account and key: when the port is
  // taken, nothing is created whose secret would never be shown.
  await listen(listener, config.port, config.host);
  const first = await bootstrap(config, server.services.accounts, server.services.apiKeys, server.services.transaction);
  const { port } = listener.address() as AddressInfo;
  const base = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  server.logger.info(
    { url: base, pid: process.pid, database: server.database.dialect, environment: config.environment },
    'AetherFlow API listening',
  );
  if (first) printFirstStart(first, base);

  let stopping = false;
  const stop = (signal: string) => {
    // Once: Ctrl-C under npm reaches the server twice (from the terminal and from npm).
    if (stopping) return;
    stopping = true;
    void shutDown(signal, config.shutdown, server, listener);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function shutDown(
  signal: string,
  settings: Config['shutdown'],
  server: Server,
  listener: http.Server,
): Promise<void> {
  const { logger } = server;
  const started = Date.now();
  const steps = new ShutdownSteps(logger);
  logger.info(
    { signal, drain_ms: settings.drainMs, timeout_ms: settings.timeoutMs },
    'shutting down: draining (/health 503, every answer closes its connection), then no new connections',
  );
  server.drain();
  closeConnectionsAfterAnswers(listener);
  const deadline = setTimeout(() => {
    const waiting = steps.pending();
    logger.error(
      { waiting_for: waiting, timeout_ms: settings.timeoutMs },
      `shutdown deadline passed; still waiting for: ${waiting.join(', ') || 'nothing named'}; exiting`,
    );
    process.exit(1);
  }, settings.timeoutMs);
  await steps.run('drain', () => new Promise((resolve) => setTimeout(resolve, settings.drainMs)));
  await steps.run('in-flight requests', () => new Promise<void>((resolve) => shutDownGracefully(listener, resolve)));
  const closed = await server.close(steps).then(
    () => true,
    () => false,
  );
  clearTimeout(deadline);
  logger.info(
    { ms: Date.now() - started, failed: steps.failed() },
    closed ? 'stopped' : 'stopped; some resources did not close cleanly',
  );
  process.exit(closed ? 0 : 1);
}

/**
 * Every background task handles its own failures; a rejection nobody handled is a bug.
 * It is logged (tests fail on the line) and the server goes on serving: one task's
 * mistake must not take every instance down at the same moment (an outage of a shared
 * dependency reaches them all at once). An uncaught exception may have left anything
 * half done: logged, then the process exits.
 */
function reportWhatEscapes(logger: Logger): void {
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled rejection');
  });
  process.on('uncaughtException', (error: Error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
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
    process.stderr.write(
      `AetherFlow API failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
