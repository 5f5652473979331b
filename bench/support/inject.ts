// Dispatches a request to an HTTP handler (the Express app) in-process, through
// real IncomingMessage/ServerResponse objects on an in-memory socket: what a
// request costs in the pipeline itself, without the network or a load generator.
// For micro-benchmarks only (bench/micro.ts).
import { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import { Duplex } from 'node:stream';

class MemorySocket extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40000;
  readonly encrypted = false;
  bytes = 0;
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    done();
  }
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

export interface Injected {
  status: number;
  bytes: number;
}

export function inject(
  app: RequestListener,
  request: { method: string; url: string; headers: Record<string, string>; body?: string },
): Promise<Injected> {
  return new Promise((resolve, reject) => {
    const socket = new MemorySocket();
    const req = new IncomingMessage(socket as never);
    req.method = request.method;
    req.url = request.url;
    req.httpVersion = '1.1';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    const headers: Record<string, string> = { host: 'bench.local' };
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    req.headers = headers;
    req.rawHeaders = Object.entries(headers).flat();
    if (request.body !== undefined) req.push(request.body);
    req.push(null);
    // What the HTTP parser sets once the message is in: without it, a consumed body counts as aborted.
    req.complete = true;
    const res = new ServerResponse(req);
    res.assignSocket(socket as never);
    res.on('finish', () => resolve({ status: res.statusCode, bytes: socket.bytes }));
    res.on('error', reject);
    app(req, res);
  });
}
