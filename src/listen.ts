// The listening socket: plain HTTP, or TLS terminated here with TLS 1.3 as the
// minimum when a certificate is configured.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { newId } from './domain/ids.ts';
import { ApiError } from './errors.ts';
import { rawErrorResponse } from './http/error-handler.ts';

export function createListener(config: Pick<Config, 'tls'>, app: RequestListener, logger?: Logger): http.Server {
  // HTTP/1.1's "exactly one Host" is checked in the pipeline (src/http/repeated-headers.ts),
  // so that a request without one gets our error form, not Node's bare 400.
  const options = { requireHostHeader: false };
  const listener = config.tls
    ? https.createServer(
        {
          ...options,
          cert: readFileSync(config.tls.certFile),
          key: readFileSync(config.tls.keyFile),
          minVersion: 'TLSv1.3',
        },
        app,
      )
    : http.createServer(options, app);
  // Shorter than a typical load balancer's idle timeout, so it closes first and never sends to a closed socket.
  listener.keepAliveTimeout = 5_000;
  // Requests Node's parser refuses never reach Express: without this, Node answers a bare
  // 400 or 431 with no body and no request id. Answer in our error form instead.
  listener.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    if (!socket.writable || (error.code === 'ECONNRESET' && !error.rawPacket)) {
      socket.destroy();
      return;
    }
    const requestId = newId('req');
    const message =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? 'The request headers are larger than the server accepts (16 KB): send fewer or shorter headers.'
        : 'The request is not well-formed HTTP/1.1 (request line, header syntax or body framing): nothing was processed.';
    logger?.info({ req_id: requestId, code: error.code ?? null, status: 400 }, 'request refused by the HTTP parser');
    socket.end(rawErrorResponse(pathOf(error.rawPacket), new ApiError('validation_failed', message), requestId));
  });
  // CONNECT asks for a tunnel, which this server never opens; Node would otherwise drop the socket silently.
  listener.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.end(
      rawErrorResponse(
        null,
        new ApiError('route_not_found', 'This server opens no tunnels: CONNECT is not supported.'),
        newId('req'),
      ),
    );
  });
  return listener;
}

/** Why the server cannot listen, said in one line to whoever started it (no stack trace). */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** Starts listening; rejects with a ListenError when the address cannot be had (port taken, no permission). */
export function listen(listener: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      listener.off('listening', onListening);
      reject(new ListenError(whyNotListening(error, port, host), { cause: error }));
    };
    const onListening = () => {
      listener.off('error', onError);
      resolve();
    };
    listener.once('error', onError);
    listener.once('listening', onListening);
    listener.listen(port, host);
  });
}

function whyNotListening(error: NodeJS.ErrnoException, port: number, host: string): string {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `Cannot listen on ${where}: the port is already in use. Stop what is using it, or start on another port: PORT=${port < 65535 ? port + 1 : 3001} npm start`;
    case 'EACCES':
      return `Cannot listen on ${where}: permission denied (ports below 1024 need privileges). Start on another port: PORT=3000 npm start`;
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${where}: ${host} is not an address of this machine. Set HOST to one of its addresses (127.0.0.1, 0.0.0.0).`;
    default:
      return `Cannot listen on ${where}: ${error.message}`;
  }
}

/** The path of the request line in the bytes the parser refused, when there is one. */
function pathOf(packet: Buffer | undefined): string | null {
  const line = packet?.subarray(0, 2048).toString('latin1').split('\r\n', 1)[0] ?? '';
  const target = /^[A-Za-z]+ (\S+) HTTP\/1\.[01]$/.exec(line)?.[1];
  return target?.startsWith('/') ? (target.split('?')[0] ?? null) : null;
}
