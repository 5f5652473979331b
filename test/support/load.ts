// Steady load on one or more instances, for the fault and shutdown tests: a few
// workers, each on its own keep-alive connection (node:http, so a reset is seen as the
// socket error it is), sending reads and writes in turn and recording every outcome:
// status, time taken, the headers that matter, or the socket error. A write answered
// 201 is acknowledged: its id is kept, to be looked for afterwards.
import http from 'node:http';

export interface Outcome {
  /** Which instance (index into the urls). */
  instance: number;
  method: string;
  path: string;
  startedAt: number;
  ms: number;
  /** null when no answer came (a socket error). */
  status: number | null;
  /** The socket error's code (ECONNRESET, ECONNREFUSED...), when no answer came. */
  error: string | null;
  retryAfter: string | null;
  connection: string | null;
  code: string | null;
}

export interface Load {
  outcomes: Outcome[];
  /** Ids of workflows created with a 201. */
  acknowledged: string[];
  /** Outcomes since `since` (ms since the epoch). */
  since(since: number): Outcome[];
  stop(): Promise<void>;
}

export interface LoadOptions {
  urls: string[];
  key: string;
  /** Workers per instance (4). */
  workers?: number;
  /** Stop a worker whose instance refuses connections (it has stopped listening). */
  stopOnRefused?: boolean;
  /** Whether an instance still gets new requests (a load balancer's view of /health); always by default. */
  routed?: (instance: number) => boolean;
}

const workflow = (name: string) =>
  JSON.stringify({ name, trigger: { type: 'manual' }, steps: [{ id: 'a', type: 'log', message: 'hi' }] });

export function startLoad(options: LoadOptions): Load {
  const outcomes: Outcome[] = [];
  const acknowledged: string[] = [];
  let running = true;
  let sequence = 0;
  const worker = async (instance: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const base = new URL(options.urls[instance]!);
    try {
      for (let i = 0; running && (options.routed?.(instance) ?? true); i++) {
        const write = i % 3 === 2;
        const n = (sequence += 1);
        const body = write ? workflow(`Load ${n}`) : undefined;
        const path = write ? '/v1/workflows' : '/v1/workflows?limit=5';
        const headers: Record<string, string> = {
          Authorization: `Bearer ${options.key}`,
          ...(body ? { 'Content-Type': 'application/json', 'Idempotency-Key': `load-${process.pid}-${n}` } : {}),
        };
        const outcome = await send(agent, base, write ? 'POST' : 'GET', path, headers, body);
        outcomes.push({ ...outcome, instance });
        if (outcome.status === 201 && outcome.id) acknowledged.push(outcome.id);
        if (outcome.error === 'ECONNREFUSED') {
          if (options.stopOnRefused) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      agent.destroy();
    }
  };
  const workers = options.urls.flatMap((_, instance) =>
    Array.from({ length: options.workers ?? 4 }, () => worker(instance)),
  );
  return {
    outcomes,
    acknowledged,
    since: (since) => outcomes.filter((outcome) => outcome.startedAt >= since),
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

function send(
  agent: http.Agent,
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Omit<Outcome, 'instance'> & { id: string | null }> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const done = (fields: Partial<Omit<Outcome, 'instance'>> & { id?: string | null }) =>
      resolve({
        method,
        path,
        startedAt,
        ms: Date.now() - startedAt,
        status: null,
        error: null,
        retryAfter: null,
        connection: null,
        code: null,
        id: null,
        ...fields,
      });
    const request = http.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message }));
      response.on('end', () => {
        let parsed: { data?: { id?: string }; error?: { code?: string } } = {};
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
        } catch {
          // not JSON: left empty
        }
        done({
          status: response.statusCode ?? null,
          retryAfter: header(response.headers['retry-after']),
          connection: header(response.headers.connection),
          code: parsed.error?.code ?? null,
          id: response.statusCode === 201 ? (parsed.data?.id ?? null) : null,
        });
      });
    });
    request.setTimeout(30_000, () =>
      request.destroy(Object.assign(new Error('no answer in 30 s'), { code: 'TIMEOUT' })),
    );
    request.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message }));
    request.end(body);
  });
}

function header(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

/** What the fault tests allow during a fault: a success, or a 503 service_unavailable with Retry-After. */
export function unexpected(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((outcome) => {
    if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) return false;
    return !(
      outcome.status === 503 &&
      outcome.code === 'service_unavailable' &&
      outcome.retryAfter !== null &&
      Number(outcome.retryAfter) >= 1
    );
  });
}

/** A short description of outcomes, by status or error, for assertion messages and the figures logged. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const key =
      outcome.status === null ? `error ${outcome.error}` : `${outcome.status}${outcome.code ? ` ${outcome.code}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
