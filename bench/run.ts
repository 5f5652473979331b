// `npm run bench`: our server in its production configuration against raw node:http
// and bare Express 5 serving the same bodies on the same routes, measured in one run
// with interleaved rounds, so that every ratio compares figures taken minutes apart
// on the same machine in the same state. Beside them, the "floor" (bench/baselines/floor.ts):
// the three routes written by hand on Express with our per-request duties and nothing
// else, which says how far any server with those duties could get on the machine of the run.
// See docs/performance.md.
//
//   npm run bench                          3 rounds x 5 s per scenario, 50 connections
//   npm run bench -- --duration 10 --rounds 5 --connections 50
//   npm run bench -- --only get            scenarios whose name contains "get"
//   npm run bench -- --big-rows 10000      a quicker seed (the 100k figure is then not one)
//
// Every server is its own process (autocannon runs here, never on a server's event
// loop). Each scenario must answer only 2xx: a refused request fails the run, so a
// rate limit or an auth error can never pass for speed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { prepare, WORKFLOW, type BenchData } from './prepare.ts';
import { cpuMicros, freePort, request, stopChild } from './support/processes.ts';

const root = path.resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '5' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '3' },
    warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '2' },
    connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '50' },
    'startups': { type: 'string', default: '5' },
    'small-rows': { type: 'string', default: '1000' },
    'big-rows': { type: 'string', default: '100000' },
    only: { type: 'string' },
    out: { type: 'string', default: path.join(root, 'bench', 'results', 'latest.json') },
    keep: { type: 'boolean', default: false },
    // Writes a V8 CPU profile of our server (kept in the work dir): see bench/profile-summary.ts.
    profile: { type: 'boolean', default: false },
    // Prepares the data, starts our server and prints how to call it, then waits (manual experiments).
    serve: { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const STARTUPS = Number(args.startups);

type Route = 'get' | 'list' | 'post';
type ServerName = 'raw-node' | 'express' | 'floor' | 'ours';

interface Scenario {
  name: string;
  server: ServerName;
  route: Route;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  /** The server's CPU time (all its threads) over the round, per request answered. */
  cpuUs: number;
}

interface Running {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The command `npm start` runs, without npm itself (whose own start-up is not ours). */
function startCommand(): string[] {
  const script = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const [command, ...rest] = script.split(/\s+/);
  if (command !== 'node') throw new Error(`npm start is not a node command: ${script}`);
  return rest;
}

function spawnServer(args: string[], env: Record<string, string>, logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', out, out] });
  closeSync(out);
  return child;
}

/** Polls `probe` every 5 ms until it answers 200; returns the milliseconds since `startedAt`. */
async function waitUntilServing(child: ChildProcess, probe: () => Promise<{ status: number }>, startedAt: number, logFile: string): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`a server exited at start:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      const { status } = await probe();
      if (status === 200) return performance.now() - startedAt;
      if (status !== 503) throw new Error(`the start-up probe answered ${status}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED' && (error as NodeJS.ErrnoException).code !== 'ECONNRESET') throw error;
    }
    if (performance.now() - startedAt > 60_000) throw new Error('a server did not start within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const proxied = { 'X-Forwarded-Proto': 'https' };

async function startOurs(data: BenchData, logFile: string): Promise<Running & { startupMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const startedAt = performance.now();
  const profile = args.profile && !logFile.endsWith('startup.log') ? [`--cpu-prof`, `--cpu-prof-dir=${path.join(path.dirname(logFile), '..', 'profiles')}`] : [];
  const child = spawnServer([...profile, ...startCommand()], { ...data.env, PORT: String(port) }, logFile);
  const probe = () => request(`${url}/v1/workflows/${data.workflowId}`, { headers: { ...proxied, Authorization: `Bearer ${data.key}` } });
  const startupMs = await waitUntilServing(child, probe, startedAt, logFile);
  return { url, child, startupMs, stop: () => stopChild(child) };
}

/**
 * A baseline, bundled as our server is (scripts/build.mjs) and run with plain node: run
 * through tsx's loader instead, bare Express served about 4 % fewer requests, which
 * flattered our ratios by as much.
 */
async function startBaseline(file: string, bodiesFile: string, logFile: string, options: { env?: Record<string, string>; probe?: { path: string; headers: Record<string, string> }; bundleDir?: string } = {}): Promise<Running> {
  const bundle = path.join(options.bundleDir ?? path.join(path.dirname(bodiesFile), 'baselines'), `${path.basename(file, '.ts')}.mjs`);
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), path.join(root, file), bundle], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnServer([bundle], { NODE_ENV: 'production', PORT: String(port), BENCH_BODIES: bodiesFile, ...options.env }, logFile);
  const probe = options.probe ?? { path: '/v1/workflows/x', headers: {} };
  await waitUntilServing(child, () => request(`${url}${probe.path}`, { headers: probe.headers }), performance.now(), logFile);
  return { url, child, stop: () => stopChild(child) };
}

/** Headers whose value changes from one request to the next: the floor's are compared by name only. */
const PER_REQUEST_HEADERS = new Set(['x-request-id', 'date', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit']);

/**
 * The floor (bench/baselines/floor.ts): the three routes written by hand with our
 * per-request duties, on its own copy of the database (so our writes never empty its key
 * map). It must answer what ours does: the same status and headers on each route (values
 * too, but for those that differ from one request to the next), the very bytes of GET by
 * id and of the list, and POST's body but for the new id and times.
 */
async function startFloor(data: BenchData, work: string, bodiesFile: string, ours: Running, logFile: string): Promise<Running> {
  const copy = path.join(work, 'floor.sqlite');
  const source = new Database(path.join(data.dataDir, 'aetherflow.sqlite'), { readonly: true });
  try {
    source.prepare('vacuum into ?').run(copy);
  } finally {
    source.close();
  }
  const read = { ...proxied, Authorization: `Bearer ${data.key}` };
  const write = { ...proxied, Authorization: `Bearer ${data.writeKey}`, 'Content-Type': 'application/json' };
  const probe = { path: `/v1/workflows/${data.workflowId}`, headers: read };
  // Bundled beside our own bundle: better-sqlite3 stays outside bundles and is found from there.
  const env = { FLOOR_DB: copy, AETHERFLOW_HASH_SECRET: data.env.AETHERFLOW_HASH_SECRET! };
  const floor = await startBaseline('bench/baselines/floor.ts', bodiesFile, logFile, { env, probe, bundleDir: path.join(root, 'dist') });
  try {
    const unlike: string[] = [];
    const routes = [
      { name: 'GET by id', path: probe.path, options: { headers: read } },
      { name: 'list', path: '/v1/workflows', options: { headers: read } },
      { name: 'POST', path: '/v1/workflows', options: { method: 'POST', headers: write, body: JSON.stringify(WORKFLOW) } },
    ];
    for (const route of routes) {
      const [mine, its] = await Promise.all([request(`${ours.url}${route.path}`, route.options), request(`${floor.url}${route.path}`, route.options)]);
      const headers = (answer: { headers: Record<string, unknown> }) =>
        Object.keys(answer.headers)
          .sort()
          .map((name) => (PER_REQUEST_HEADERS.has(name) ? name : `${name}: ${String(answer.headers[name])}`))
          .join('\n');
      if (mine.status !== its.status) unlike.push(`${route.name}: status ${its.status}, ours ${mine.status}`);
      if (headers(mine) !== headers(its)) unlike.push(`${route.name}: headers\n${headers(its)}\nours\n${headers(mine)}`);
      const comparable = (body: string) => (route.name === 'POST' ? body.replace(/"(id|created_at|updated_at)":"[^"]*"/g, '"$1":""') : body);
      if (comparable(mine.body) !== comparable(its.body)) unlike.push(`${route.name}: body\n${its.body}\nours\n${mine.body}`);
    }
    if (unlike.length > 0) throw new Error(`the floor does not answer what ours does:\n${unlike.join('\n')}`);
  } catch (error) {
    await floor.stop();
    throw error;
  }
  return floor;
}

async function load(server: Running, scenario: Scenario, seconds: number): Promise<Sample> {
  const before = cpuMicros(server.child.pid!);
  const result = await autocannon({
    url: server.url + scenario.path,
    method: scenario.method,
    headers: scenario.headers,
    ...(scenario.body ? { body: scenario.body } : {}),
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
  });
  const cpuUs = (cpuMicros(server.child.pid!) - before) / result.requests.total;
  const refused = result.non2xx + result.errors + result.timeouts;
  if (refused > 0) {
    throw new Error(`${scenario.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts (${JSON.stringify(result.statusCodeStats)})`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.mean, cpuUs };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'aetherflow-bench-'));
  const logs = path.join(work, 'logs');
  mkdirSync(logs);
  const running: Running[] = [];
  try {
    console.log(`bench: ${ROUNDS} interleaved rounds x ${DURATION} s per scenario, ${CONNECTIONS} connections, warm-up ${WARMUP} s; work dir ${work}`);
    const t0 = performance.now();
    const data = await prepare(work, { small: Number(args['small-rows']), big: Number(args['big-rows']) });
    console.log(`seeded ${args['small-rows']} + ${args['big-rows']} workflows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Start-up: the command of `npm start`, on the seeded database, to the first
    // authenticated GET answered 200 (which includes first-request work). `npm start`
    // runs the bundle and builds it first when it is stale: it is built here, before
    // timing, as a deployment builds it once (`npm run build`) and starts many times.
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
    const startups: number[] = [];
    for (let i = 0; i < STARTUPS; i++) {
      const instance = await startOurs(data, path.join(logs, 'startup.log'));
      startups.push(instance.startupMs);
      await instance.stop();
    }
    console.log(`start-up to first successful request: ${startups.map((ms) => ms.toFixed(0)).join(', ')} ms`);

    const ours = await startOurs(data, path.join(logs, 'ours.log'));
    running.push(ours);
    if (args.serve) {
      writeFileSync(path.join(work, 'env.json'), JSON.stringify({ ...data, url: ours.url }, null, 2));
      console.log(`serving on ${ours.url}; ${path.join(work, 'env.json')} has the keys and the environment; Ctrl-C to stop`);
      await new Promise((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      return;
    }
    const token = await login(ours.url, data);
    const withKey = (key: string) => ({ ...proxied, Authorization: `Bearer ${key}` });
    const postHeaders = (key: string) => ({ ...withKey(key), 'Content-Type': 'application/json' });
    const postBody = JSON.stringify(WORKFLOW);

    // The bodies the baselines serve: exactly what ours answers.
    const bodiesFile = path.join(work, 'bodies.json');
    const get = await request(`${ours.url}/v1/workflows/${data.workflowId}`, { headers: withKey(data.key) });
    const list = await request(`${ours.url}/v1/workflows`, { headers: withKey(data.key) });
    const created = await request(`${ours.url}/v1/workflows`, { method: 'POST', headers: postHeaders(data.writeKey), body: postBody });
    for (const [what, answer, status] of [['get', get, 200], ['list', list, 200], ['post', created, 201]] as const) {
      if (answer.status !== status) throw new Error(`capturing the ${what} body: ${answer.status} ${answer.body}`);
    }
    if ((JSON.parse(list.body) as { data: unknown[] }).data.length !== 20) throw new Error('the list does not hold 20 items');
    writeFileSync(bodiesFile, JSON.stringify({ get: JSON.parse(get.body), list: JSON.parse(list.body), created: JSON.parse(created.body) }));

    const raw = await startBaseline('bench/baselines/raw-node.ts', bodiesFile, path.join(logs, 'raw-node.log'));
    const bare = await startBaseline('bench/baselines/bare-express.ts', bodiesFile, path.join(logs, 'express.log'));
    const floor = await startFloor(data, work, bodiesFile, ours, path.join(logs, 'floor.log'));
    running.push(raw, bare, floor);
    const servers: Record<ServerName, Running> = { 'raw-node': raw, express: bare, floor, ours };

    // The same request bytes to every server: baselines ignore the headers.
    const scenarios: Scenario[] = [];
    for (const server of ['raw-node', 'express'] as const) {
      scenarios.push(
        { name: `${server}: GET /v1/workflows/{id}`, server, route: 'get', method: 'GET', path: `/v1/workflows/${data.workflowId}`, headers: withKey(data.key) },
        { name: `${server}: GET /v1/workflows (20 items)`, server, route: 'list', method: 'GET', path: '/v1/workflows', headers: withKey(data.key) },
        { name: `${server}: POST /v1/workflows`, server, route: 'post', method: 'POST', path: '/v1/workflows', headers: postHeaders(data.writeKey), body: postBody },
      );
    }
    scenarios.push(
      { name: 'floor: GET /v1/workflows/{id}', server: 'floor', route: 'get', method: 'GET', path: `/v1/workflows/${data.workflowId}`, headers: withKey(data.key) },
      { name: 'floor: GET /v1/workflows (20 items)', server: 'floor', route: 'list', method: 'GET', path: '/v1/workflows', headers: withKey(data.key) },
      { name: 'floor: POST /v1/workflows', server: 'floor', route: 'post', method: 'POST', path: '/v1/workflows', headers: postHeaders(data.writeKey), body: postBody },
      { name: 'ours: GET /v1/workflows/{id} (API key)', server: 'ours', route: 'get', method: 'GET', path: `/v1/workflows/${data.workflowId}`, headers: withKey(data.key) },
      { name: 'ours: GET /v1/workflows (20 items, 1k in project)', server: 'ours', route: 'list', method: 'GET', path: '/v1/workflows', headers: withKey(data.key) },
      { name: 'ours: POST /v1/workflows', server: 'ours', route: 'post', method: 'POST', path: '/v1/workflows', headers: postHeaders(data.writeKey), body: postBody },
      { name: 'ours: GET /v1/workflows/{id} (JWT)', server: 'ours', route: 'get', method: 'GET', path: `/v1/workflows/${data.liveWorkflowId}`, headers: withKey(token) },
      { name: 'ours: GET /v1/workflows (20 items, 100k in project)', server: 'ours', route: 'list', method: 'GET', path: '/v1/workflows', headers: withKey(data.bigKey) },
    );
    const selected = args.only ? scenarios.filter((s) => s.server !== 'ours' || s.name.includes(args.only!)) : scenarios;

    for (const scenario of selected) {
      process.stdout.write(`warm-up ${scenario.name}\n`);
      await load(servers[scenario.server], scenario, WARMUP);
    }
    const samples = new Map<string, Sample[]>(selected.map((s) => [s.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved: every scenario once per round, in a rotated order, so that a slow
      // minute of the machine spreads over all of them instead of one.
      const order = selected.map((_, i) => selected[(i + r * 3) % selected.length]!);
      for (const scenario of order) {
        const sample = await load(servers[scenario.server], scenario, DURATION);
        samples.get(scenario.name)!.push(sample);
        process.stdout.write(`round ${r + 1}/${ROUNDS}  ${scenario.name.padEnd(55)} ${sample.rps.toFixed(0).padStart(7)} req/s  p50 ${sample.p50} ms  p99 ${sample.p99} ms  ${sample.cpuUs.toFixed(0)} µs CPU/request\n`);
      }
    }

    const { results, meta, targets } = report(selected, samples, startups);
    // latest.json: one object per scenario (scenario, rps, p50_ms, p99_ms, ratio_vs_express, and the
    // per-round figures); beside it, how the run was made and the targets' verdicts.
    mkdirSync(path.dirname(args.out!), { recursive: true });
    writeFileSync(args.out!, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(args.out!.replace(/\.json$/, '.meta.json'), `${JSON.stringify({ ...meta, targets }, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(root, args.out!)}`);
  } finally {
    for (const server of running.reverse()) await server.stop();
    if (args.keep || args.profile) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

async function login(url: string, data: BenchData): Promise<string> {
  const answer = await request(`${url}/v1/auth/login`, { method: 'POST', headers: { ...proxied, 'Content-Type': 'application/json' }, body: JSON.stringify(data.owner) });
  if (answer.status !== 200) throw new Error(`login: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { data: { token: string } }).data.token;
}

interface ResultRow {
  scenario: string;
  rps: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  ratio_vs_express: number | null;
  /** Median over rounds of (our p99 / bare Express's p99 on the same route, same round). */
  p99_ratio_vs_express?: number | null;
  /** Per-round requests per second: the run-to-run spread. */
  rps_rounds?: number[];
  /** Per-round ratios to bare Express. */
  ratio_rounds?: number[];
  /** Median over rounds of the server's CPU time (all threads) per request, in microseconds. */
  cpu_us_per_request?: number;
  /**
   * Median over rounds of (bare Express's CPU per request / ours, same route, same round):
   * the throughput ratio if each server's own CPU time were all that limited it. Steadier
   * than the req/s ratio, which also moves with whatever else the two cores are doing.
   */
  cpu_ratio_vs_express?: number;
  startup_ms_runs?: number[];
}

function report(scenarios: Scenario[], samples: Map<string, Sample[]>, startups: number[]): { meta: Record<string, unknown>; results: ResultRow[]; targets: Array<{ target: string; value: number | null; ok: boolean }> } {
  const expressOf = (route: Route) => scenarios.find((s) => s.server === 'express' && s.route === route)!.name;
  const rows: ResultRow[] = scenarios.map((scenario) => {
    const mine = samples.get(scenario.name)!;
    const base = samples.get(expressOf(scenario.route))!;
    const ratios = mine.map((sample, i) => sample.rps / base[i]!.rps);
    const p99Ratios = mine.map((sample, i) => sample.p99 / base[i]!.p99);
    const cpuRatios = mine.map((sample, i) => base[i]!.cpuUs / sample.cpuUs);
    return {
      scenario: scenario.name,
      rps: round(median(mine.map((s) => s.rps)), 0),
      p50_ms: round(median(mine.map((s) => s.p50))),
      p99_ms: round(median(mine.map((s) => s.p99))),
      ratio_vs_express: round(median(ratios)),
      p99_ratio_vs_express: round(median(p99Ratios)),
      rps_rounds: mine.map((s) => round(s.rps, 0)),
      ratio_rounds: ratios.map((x) => round(x)),
      cpu_us_per_request: round(median(mine.map((s) => s.cpuUs)), 0),
      cpu_ratio_vs_express: round(median(cpuRatios)),
    };
  });
  rows.push({ scenario: 'ours: start-up to first successful request', rps: null, p50_ms: round(median(startups), 0), p99_ms: round(Math.max(...startups), 0), ratio_vs_express: null, startup_ms_runs: startups.map((ms) => round(ms, 0)) });

  // The table.
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'x Express', 'p99 / Express p99', 'µs CPU/req', 'x Express by CPU', 'req/s per round'];
  const lines = rows.map((row) => [
    row.scenario,
    row.rps === null ? '' : String(row.rps),
    String(row.p50_ms),
    String(row.p99_ms),
    row.ratio_vs_express === null ? '' : `${row.ratio_vs_express.toFixed(2)}x (${Math.min(...row.ratio_rounds!).toFixed(2)}-${Math.max(...row.ratio_rounds!).toFixed(2)})`,
    row.p99_ratio_vs_express == null ? '' : `${row.p99_ratio_vs_express.toFixed(2)}x`,
    row.cpu_us_per_request === undefined ? '' : String(row.cpu_us_per_request),
    row.cpu_ratio_vs_express === undefined ? '' : `${row.cpu_ratio_vs_express.toFixed(2)}x`,
    row.rps_rounds?.join(' / ') ?? `start-ups: ${row.startup_ms_runs!.join(', ')} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${fmt(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${lines.map(fmt).join('\n')}`);

  // The targets of issue 9.
  const find = (part: string) => rows.find((r) => r.scenario.startsWith('ours:') && r.scenario.includes(part));
  const targets: Array<{ target: string; value: number | null; ok: boolean }> = [];
  const ratioTarget = (label: string, part: string, min: number) => {
    const row = find(part);
    if (row) targets.push({ target: `${label} >= ${min}x bare Express`, value: row.ratio_vs_express, ok: (row.ratio_vs_express ?? 0) >= min });
  };
  ratioTarget('GET by id (API key)', '{id} (API key)', 0.75);
  ratioTarget('list (20 items)', '1k in project', 0.65);
  ratioTarget('POST', 'POST', 0.65);
  ratioTarget('GET by id (JWT)', '(JWT)', 0.7);
  for (const row of rows.filter((r) => r.scenario.startsWith('ours:') && r.p99_ratio_vs_express != null)) {
    targets.push({ target: `p99 of "${row.scenario}" <= 2x bare Express's p99`, value: row.p99_ratio_vs_express!, ok: row.p99_ratio_vs_express! <= 2 });
  }
  targets.push({ target: 'start-up < 1500 ms (median)', value: round(median(startups), 0), ok: median(startups) < 1500 });
  const small = find('1k in project');
  const big = find('100k in project');
  if (small && big) {
    const ratio = round(big.p50_ms! / small.p50_ms!);
    targets.push({ target: 'list p50 latency with 100k <= 1.2x with 1k', value: ratio, ok: ratio <= 1.2 });
  }
  console.log('\ntargets (issue 9):');
  for (const t of targets) console.log(`  ${t.ok ? 'ok  ' : 'MISS'}  ${t.target}: ${t.value}`);

  return {
    meta: { date: new Date().toISOString(), node: process.version, rounds: ROUNDS, duration_s: DURATION, connections: CONNECTIONS, warmup_s: WARMUP, cpus: cpus().length },
    results: rows,
    targets,
  };
}

await main();
