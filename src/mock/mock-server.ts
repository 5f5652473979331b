// `npm run mock`: Prism on a port of its own, behind the front (front.ts) on the
// port the user asked for.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadContract } from '../contract/operations.ts';
import { mockFront } from './front.ts';
import { startPrism } from './prism-process.ts';

export interface MockOptions {
  /** The project root (holds node_modules/.bin/prism and generated/openapi.json). */
  root: string;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  dynamic?: boolean;
  /** Prism died under the front (see PrismOptions.onCrash); the front is closed by then. */
  onCrash?: (output: string) => void;
}

export interface RunningMock {
  /** `http://host:port`, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

export class PortInUseError extends Error {}

export async function startMock(options: MockOptions): Promise<RunningMock> {
  const host = options.host ?? '127.0.0.1';
  const contract = loadContract(path.join(options.root, 'generated', 'openapi.json'));
  // Take the user's port first: if it is taken, say so before starting Prism at all.
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(
              `Port ${options.port} on ${host} is already in use: stop what runs there, or pick another port with npm run mock -- --port <port>.`,
            )
          : error,
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  let prism;
  try {
    prism = await startPrism({
      root: options.root,
      ...(options.dynamic ? { dynamic: true } : {}),
      onCrash: (output) => {
        server.closeAllConnections();
        server.close();
        options.onCrash?.(output);
      },
    });
  } catch (error) {
    server.close();
    throw error;
  }
  server.on('request', mockFront({ contract, prismUrl: prism.url }));
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await prism.stop();
    },
  };
}
