// HTTP/1.1 requests written byte for byte on a TCP socket, for tests that must send
// what well-behaved clients refuse to: duplicated or conflicting headers, control
// characters, raw paths, headers beyond the server's limit, bodies that do not
// match their Content-Length. The answer is parsed just enough to check it.
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** Sent as is: the caller encodes (or deliberately does not). */
  target: string;
  /** In order, duplicates allowed. Host and Connection: close are added unless given. */
  headers?: Array<[string, string]>;
  body?: string | Buffer;
  /** Content-Length is added for a body unless a header already says it (or this is false). */
  contentLength?: boolean;
  /** Send no Host header at all. */
  noHost?: boolean;
}

export interface RawAnswer {
  status: number;
  /** Lower-case names; repeated headers keep every value. */
  headers: Map<string, string[]>;
  header(name: string): string | undefined;
  body: Buffer;
  text: string;
  /** The parsed JSON body, or undefined. */
  json: unknown;
}

export class NoAnswerError extends Error {
  constructor(
    message: string,
    /** When the whole request had been handed to the kernel (ms since the epoch), or null if it never was. */
    readonly sentAt: number | null = null,
  ) {
    super(message);
  }
}

/** Resolves when the request is written (connected, and every byte handed to the kernel). */
export interface RawRequestHandle {
  sent: Promise<number | null>;
}

export async function rawRequest(
  baseUrl: string,
  request: RawRequest,
  timeoutMs = 10_000,
  handle?: (sent: Promise<number | null>) => void,
): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const headers = [...(request.headers ?? [])];
  const has = (name: string) => headers.some(([key]) => key.toLowerCase() === name);
  if (!has('host') && !request.noHost) headers.unshift(['Host', url.host]);
  if (!has('connection')) headers.push(['Connection', 'close']);
  const body =
    request.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(request.body)
        ? request.body
        : Buffer.from(request.body, 'utf8');
  if (
    request.body !== undefined &&
    request.contentLength !== false &&
    !has('content-length') &&
    !has('transfer-encoding')
  ) {
    headers.push(['Content-Length', String(body.length)]);
  }
  const head = Buffer.from(
    `${request.method} ${request.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`,
    'latin1',
  );

  return new Promise<RawAnswer>((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    const chunks: Buffer[] = [];
    let settled = false;
    let sentAt: number | null = null;
    let markSent: (at: number | null) => void = () => undefined;
    handle?.(new Promise<number | null>((resolve) => (markSent = resolve)));
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      try {
        resolve(parseAnswer(data));
      } catch (error) {
        reject(
          new NoAnswerError(
            `${request.method} ${request.target.slice(0, 80)}: ${(error as Error).message} (${data.length} bytes received${sentAt === null ? ', request never fully sent' : ''})`,
            sentAt,
          ),
        );
      }
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(
        new NoAnswerError(
          `${request.method} ${request.target.slice(0, 80)}: no complete answer within ${timeoutMs} ms`,
          sentAt,
        ),
      );
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Answers are complete once their announced length arrived (the server may keep the socket open).
      if (isComplete(Buffer.concat(chunks))) finish();
    });
    socket.on('end', finish);
    socket.on('close', () => {
      markSent(sentAt);
      finish();
    });
    // A server that answers before reading the whole body (413) may reset the socket while we write.
    socket.on('error', () => undefined);
    socket.write(head);
    socket.write(body, () => {
      sentAt = Date.now();
      markSent(sentAt);
    });
  });
}

function headerEnd(data: Buffer): number {
  return data.indexOf('\r\n\r\n');
}

function isComplete(data: Buffer): boolean {
  const end = headerEnd(data);
  if (end < 0) return false;
  const head = data.subarray(0, end).toString('latin1');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return data.length - end - 4 >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head))
    return data.subarray(end + 4).includes('\r\n0\r\n\r\n') || data.subarray(end + 4).indexOf('0\r\n\r\n') === 0;
  return false;
}

function parseAnswer(data: Buffer): RawAnswer {
  const end = headerEnd(data);
  if (end < 0) throw new Error('no HTTP answer');
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!status) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = data.subarray(end + 4);
  const length = headers.get('content-length')?.[0];
  if (length !== undefined) body = body.subarray(0, Number(length));
  else if (headers.get('transfer-encoding')?.[0]?.toLowerCase() === 'chunked') body = dechunk(body);
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return {
    status: Number(status[1]),
    headers,
    header: (name) => headers.get(name.toLowerCase())?.join(', '),
    body,
    text,
    json,
  };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
