// The listening socket: plain HTTP, or TLS terminated here with TLS 1.3 as the
// minimum when a certificate is configured.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';
import type { Config } from './config.ts';

export function createListener(config: Pick<Config, 'tls'>, app: RequestListener): http.Server {
  const listener = config.tls
    ? https.createServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.3' }, app)
    : http.createServer(app);
  // Shorter than a typical load balancer's idle timeout, so it closes first and never sends to a closed socket.
  listener.keepAliveTimeout = 5_000;
  return listener;
}
