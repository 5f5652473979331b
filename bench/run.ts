// `npm run bench`: our server in its production configuration against three baselines on
// the same routes, in one run with interleaved rounds, so that every ratio compares
// figures taken minutes apart on the same machine in the same state (issue 28):
//   - bare Express 5 serving the same bodies with nothing else (bench/baselines/bare-express.ts);
//   - the floor: the routes written by hand with our per-request duties and nothing else
//     (bench/baselines/floor.ts), how far any server with those duties gets on this machine;
//   - the typical assembly: what a team would ship from the usual packages for this contract
//     (bench/baselines/assembly.ts), which ours must beat.
// On two cores or more, every server runs on one core (taskset) and this process, which runs
// autocannon, on another (bench/support/pinning.ts). See docs/performance.md.
//
//   npm run bench                          3 rounds x 5 s per scenario, 50 connections
//   npm run bench -- --duration 10 --rounds 5 --connections 50
//   npm run bench -- --only get,post       scenarios get, jwt, list, post, big
//   npm run bench -- --servers ours,floor  servers express, floor, assembly, ours (raw-node with --raw-node)
//   npm run bench -- --big-rows 10000      a quicker seed (the 100k figure is then not one)
//
// Every server is its own process. A round in which a server refused anything (a non-2xx
// answer, an error, a timeout) is reported and left out of every figure, so a rate limit or
// an auth error can never pass for speed; the run fails when every round of a scenario did.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { prepare, WORKFLOW, type BenchData } from './prepare.ts';
import { onServerCore, pinLoadGenerator, type Pinning } from './support/pinning.ts';
import { cpuMicros, freePort, request, stopChild } from './support/processes.ts';
import {
  buildRows,
  formatReport,
  judge,
  SCENARIO_TEXT,
  type Measured,
  type Round,
  type ScenarioId,
  type ServerName,
} from './support/report.ts';
import { differences, type Exchange } from './support/same-answers.ts';

const root = path.resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '5' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '3' },
    warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '2' },
    connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '50' },
    startups: { type: 'string', default: '5' },
    'small-rows': { type: 'string', default: '1000' },
    'big-rows': { type: 'string', default: '100000' },
    only: { type: 'string' },
    servers: { type: 'string' },
    'raw-node': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
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

interface Scenario {
  server: ServerName;
  id: ScenarioId;
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Running {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const pinning: Pinning = pinLoadGenerator(!args['no-pin']);

/** The command `npm start` runs, without npm itself (whose own start-up is not ours). */
function startCommand(): string[] {
  const script = (
    JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts.start!;
  // `exec node ...` (the shell hands its process to node, so signals reach the server) is still node.
  const [command, ...rest] = script.replace(/^exec\s+/, '').split(/\s+/);
  if (command !== 'node') throw new Error(`npm start is not a node command: ${script}`);
  return rest;
}

/** A server process, on the server core when pinned (taskset execs node: the pid is node's). */
function spawnServer(nodeArgs: string[], env: Record<string, string>, logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  const [command, commandArgs] = onServerCore(pinning, process.execPath, nodeArgs);
  const child = spawn(command, commandArgs, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return child;
}

/** Polls `probe` every 5 ms until it answers 200; returns the milliseconds since `startedAt`. */
async function waitUntilServing(
  child: ChildProcess,
  probe: () => Promise<{ status: number }>,
  startedAt: number,
  logFile: string,
): Promise<number> {
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`a server exited at start:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      const { status } = await probe();
      if (status === 200) return performance.now() - startedAt;
      if (status !== 503)
        throw new Error(`the start-up probe answered ${status}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    } catch (error) {
      if (
        (error as NodeJS.ErrnoException).code !== 'ECONNREFUSED' &&
        (error as NodeJS.ErrnoException).code !== 'ECONNRESET'
      )
        throw error;
    }
    if (performance.now() - startedAt > 60_000) throw new Error('a server did not start within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const proxied = { 'X-Forwarded-Proto': 'https' };
const withKey = (key: string) => ({ ...proxied, Authorization: `Bearer ${key}` });
const postHeaders = (key: string) => ({ ...withKey(key), 'Content-Type': 'application/json' });
const postBody = JSON.stringify(WORKFLOW);

async function startOurs(data: BenchData, logFile: string): Promise<Running & { startupMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const startedAt = performance.now();
  const profile =
    args.profile && !logFile.endsWith('startup.log')
      ? [`--cpu-prof`, `--cpu-prof-dir=${path.join(path.dirname(logFile), '..', 'profiles')}`]
      : [];
  const child = spawnServer([...profile, ...startCommand()], { ...data.env, PORT: String(port) }, logFile);
  const probe = () => request(`${url}/v1/workflows/${data.workflowId}`, { headers: withKey(data.key) });
  const startupMs = await waitUntilServing(child, probe, startedAt, logFile);
  return { url, child, startupMs, stop: () => stopChild(child) };
}

/**
 * A baseline, bundled as our server is (scripts/build.mjs) and run with plain node: run
 * through tsx's loader instead, bare Express served about 4 % fewer requests, which
 * flattered our ratios by as much. Bundled into dist/, beside our own bundle: better-sqlite3
 * stays outside bundles and is found from there, as is generated/openapi.json.
 */
function buildBaseline(file: string): string {
  const bundle = path.join(root, 'dist', 'bench', `${path.basename(file, '.ts')}.mjs`);
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), path.join(root, file), bundle], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return bundle;
}

async function startBundle(
  bundle: string,
  env: Record<string, string>,
  logFile: string,
  probe: { path: string; headers: Record<string, string> },
): Promise<Running & { startupMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const startedAt = performance.now();
  const child = spawnServer([bundle], { NODE_ENV: 'production', PORT: String(port), ...env }, logFile);
  const startupMs = await waitUntilServing(
    child,
    () => request(`${url}${probe.path}`, { headers: probe.headers }),
    startedAt,
    logFile,
  );
  return { url, child, startupMs, stop: () => stopChild(child) };
}

/** A copy of the seeded database (taken after the login, so it holds the session): each baseline's own, so no server's writes reach another. */
function copyDatabase(data: BenchData, to: string): string {
  const source = new Database(path.join(data.dataDir, 'aetherflow.sqlite'), { readonly: true });
  try {
    source.prepare('vacuum into ?').run(to);
  } finally {
    source.close();
  }
  return to;
}

async function load(server: Running, scenario: Scenario, seconds: number): Promise<Round> {
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
  const cpuUs = (cpuMicros(server.child.pid!) - before) / Math.max(1, result.requests.total);
  const refused = result.non2xx + result.errors + result.timeouts;
  if (refused > 0 || result.requests.total === 0) {
    return {
      failed: `${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts (${JSON.stringify(result.statusCodeStats)})`,
    };
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpuUs };
}

async function login(url: string, data: BenchData): Promise<string> {
  const answer = await request(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { ...proxied, 'Content-Type': 'application/json' },
    body: JSON.stringify(data.owner),
  });
  if (answer.status !== 200) throw new Error(`login: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { data: { token: string } }).data.token;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'aetherflow-bench-'));
  const logs = path.join(work, 'logs');
  mkdirSync(logs);
  const running: Running[] = [];
  const loadBefore = loadavg();
  try {
    console.log(
      `bench: ${ROUNDS} interleaved rounds x ${DURATION} s per scenario, ${CONNECTIONS} connections, warm-up ${WARMUP} s; work dir ${work}`,
    );
    console.log(`pinning: ${pinning.note}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
    const t0 = performance.now();
    const data = await prepare(work, { small: Number(args['small-rows']), big: Number(args['big-rows']) });
    console.log(
      `seeded ${args['small-rows']} + ${args['big-rows']} workflows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const wanted = new Set<ServerName>(
      (args.servers?.split(',') ?? ['express', 'floor', 'assembly', 'ours']) as ServerName[],
    );
    if (args['raw-node']) wanted.add('raw-node');
    wanted.add('ours');
    const scenarioIds = new Set<ScenarioId>((args.only?.split(',') ?? Object.keys(SCENARIO_TEXT)) as ScenarioId[]);
    const unknown = [
      ...[...wanted].filter((s) => !['raw-node', 'express', 'floor', 'assembly', 'ours'].includes(s)),
      ...[...scenarioIds].filter((s) => !(s in SCENARIO_TEXT)),
    ];
    if (unknown.length > 0)
      throw new Error(
        `unknown server or scenario: ${unknown.join(', ')} (servers: express, floor, assembly, ours, raw-node; scenarios: ${Object.keys(SCENARIO_TEXT).join(', ')})`,
      );

    // Start-up: the command of `npm start`, on the seeded database, to the first
    // authenticated GET answered 200 (which includes first-request work). `npm start`
    // runs the bundle and builds it first when it is stale: it is built here, before
    // timing, as a deployment builds it once (`npm run build`) and starts many times.
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
    const startups: Partial<Record<ServerName, number[]>> = { ours: [] };
    for (let i = 0; i < STARTUPS; i++) {
      const instance = await startOurs(data, path.join(logs, 'startup.log'));
      startups.ours!.push(instance.startupMs);
      await instance.stop();
    }
    console.log(
      `ours: start-up to first successful request: ${startups.ours!.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );

    const ours = await startOurs(data, path.join(logs, 'ours.log'));
    running.push(ours);
    if (args.serve) {
      writeFileSync(path.join(work, 'env.json'), JSON.stringify({ ...data, url: ours.url }, null, 2));
      console.log(
        `serving on ${ours.url}; ${path.join(work, 'env.json')} has the keys and the environment; Ctrl-C to stop`,
      );
      await new Promise((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      return;
    }
    const token = await login(ours.url, data);

    // The bodies bare Express (and raw node:http) serve: exactly what ours answers.
    const bodiesFile = path.join(work, 'bodies.json');
    const get = await request(`${ours.url}/v1/workflows/${data.workflowId}`, { headers: withKey(data.key) });
    const list = await request(`${ours.url}/v1/workflows`, { headers: withKey(data.key) });
    const created = await request(`${ours.url}/v1/workflows`, {
      method: 'POST',
      headers: postHeaders(data.writeKey),
      body: postBody,
    });
    for (const [what, answer, status] of [
      ['get', get, 200],
      ['list', list, 200],
      ['post', created, 201],
    ] as const) {
      if (answer.status !== status) throw new Error(`capturing the ${what} body: ${answer.status} ${answer.body}`);
    }
    if ((JSON.parse(list.body) as { data: unknown[] }).data.length !== 20)
      throw new Error('the list does not hold 20 items');
    writeFileSync(
      bodiesFile,
      JSON.stringify({ get: JSON.parse(get.body), list: JSON.parse(list.body), created: JSON.parse(created.body) }),
    );

    const requests: Record<ScenarioId, Omit<Scenario, 'server' | 'name' | 'id'>> = {
      get: { method: 'GET', path: `/v1/workflows/${data.workflowId}`, headers: withKey(data.key) },
      jwt: { method: 'GET', path: `/v1/workflows/${data.liveWorkflowId}`, headers: withKey(token) },
      list: { method: 'GET', path: '/v1/workflows', headers: withKey(data.key) },
      post: { method: 'POST', path: '/v1/workflows', headers: postHeaders(data.writeKey), body: postBody },
      big: { method: 'GET', path: '/v1/workflows', headers: withKey(data.bigKey) },
    };
    const exchanges: Exchange[] = (Object.keys(requests) as ScenarioId[]).map((id) => ({
      name: SCENARIO_TEXT[id],
      path: requests[id].path,
      options: {
        method: requests[id].method,
        headers: requests[id].headers,
        ...(requests[id].body ? { body: requests[id].body } : {}),
      },
    }));
    const probe = { path: requests.get.path, headers: requests.get.headers };
    const servers: Partial<Record<ServerName, Running>> = { ours };
    const baselineEnv = { AETHERFLOW_HASH_SECRET: data.env.AETHERFLOW_HASH_SECRET!, PUBLIC_URL: data.env.PUBLIC_URL! };

    for (const [name, file] of [
      ['raw-node', 'raw-node'],
      ['express', 'bare-express'],
    ] as const) {
      if (!wanted.has(name)) continue;
      servers[name] = await startBundle(
        buildBaseline(`bench/baselines/${file}.ts`),
        { BENCH_BODIES: bodiesFile },
        path.join(logs, `${name}.log`),
        { path: '/v1/workflows/x', headers: {} },
      );
      running.push(servers[name]);
    }
    if (wanted.has('floor')) {
      const env = { ...baselineEnv, FLOOR_DB: copyDatabase(data, path.join(work, 'floor.sqlite')) };
      servers.floor = await startBundle(
        buildBaseline('bench/baselines/floor.ts'),
        env,
        path.join(logs, 'floor.log'),
        probe,
      );
      running.push(servers.floor);
      const unlike = await differences(ours.url, servers.floor.url, exchanges, 'values');
      if (unlike.length > 0) throw new Error(`the floor does not answer what ours does:\n${unlike.join('\n')}`);
    }
    if (wanted.has('assembly')) {
      const env = { ...baselineEnv, ASSEMBLY_DB: copyDatabase(data, path.join(work, 'assembly.sqlite')) };
      const bundle = buildBaseline('bench/baselines/assembly.ts');
      startups.assembly = [];
      for (let i = 0; i < STARTUPS; i++) {
        const instance = await startBundle(bundle, env, path.join(logs, 'assembly-startup.log'), probe);
        startups.assembly.push(instance.startupMs);
        await instance.stop();
      }
      console.log(
        `assembly: start-up to first successful request: ${startups.assembly.map((ms) => ms.toFixed(0)).join(', ')} ms`,
      );
      servers.assembly = await startBundle(bundle, env, path.join(logs, 'assembly.log'), probe);
      running.push(servers.assembly);
      const unlike = await differences(ours.url, servers.assembly.url, exchanges, 'names');
      if (unlike.length > 0) throw new Error(`the assembly does not answer what ours does:\n${unlike.join('\n')}`);
    }

    // Bare Express (and raw node:http) ignore the credentials and serve one body per route;
    // the list at 100k is the same to them as at 1k, so they are not loaded with it.
    const serves = (server: ServerName, id: ScenarioId) =>
      !(id === 'big' && (server === 'express' || server === 'raw-node'));
    const order: ServerName[] = ['raw-node', 'express', 'floor', 'assembly', 'ours'];
    const scenarios: Scenario[] = [];
    for (const id of Object.keys(SCENARIO_TEXT) as ScenarioId[]) {
      if (!scenarioIds.has(id)) continue;
      for (const server of order) {
        if (servers[server] && serves(server, id))
          scenarios.push({ server, id, name: `${server}: ${SCENARIO_TEXT[id]}`, ...requests[id] });
      }
    }

    for (const scenario of scenarios) {
      const warm = await load(servers[scenario.server]!, scenario, WARMUP);
      console.log(`warm-up ${scenario.name}${'failed' in warm ? `: refused requests (${warm.failed})` : ''}`);
    }
    const measured: Measured[] = scenarios.map((s) => ({ server: s.server, scenario: s.id, rounds: [] }));
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved: every scenario once per round, in a rotated order, so that a slow
      // minute of the machine spreads over all of them instead of one.
      const shift = Math.floor((r * scenarios.length) / ROUNDS);
      for (let i = 0; i < scenarios.length; i++) {
        const index = (i + shift) % scenarios.length;
        const scenario = scenarios[index]!;
        const result = await load(servers[scenario.server]!, scenario, DURATION);
        measured[index]!.rounds[r] = result;
        const figures =
          'failed' in result
            ? `FAILED, left out: ${result.failed}`
            : `${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  ${result.cpuUs.toFixed(0)} µs CPU/request`;
        console.log(`round ${r + 1}/${ROUNDS}  ${scenario.name.padEnd(50)} ${figures}`);
      }
    }

    const results = buildRows(measured, startups);
    const targets = judge(results, measured);
    console.log(`\n${formatReport(results, measured, targets)}`);
    const failed = results.flatMap((row) => row.failed_rounds.map((f) => ({ scenario: row.scenario, ...f })));
    const meta = {
      date: new Date().toISOString(),
      commit: gitCommit(),
      node: process.version,
      cpus: cpus().length,
      pinning,
      load_average_before: loadBefore.map((x) => Number(x.toFixed(2))),
      load_average_after: loadavg().map((x) => Number(x.toFixed(2))),
      rounds: ROUNDS,
      duration_s: DURATION,
      warmup_s: WARMUP,
      connections: CONNECTIONS,
      rows: { small: Number(args['small-rows']), big: Number(args['big-rows']) },
      failed_rounds: failed,
      targets,
    };
    mkdirSync(path.dirname(args.out), { recursive: true });
    writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(args.out.replace(/\.json$/, '.meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(root, args.out)}`);
    const lost = results.filter((row) => row.rps_rounds.length > 0 && row.rps_rounds.every((x) => x === null));
    if (lost.length > 0) {
      console.error(`every round failed for: ${lost.map((row) => row.scenario).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    for (const server of running.reverse()) await server.stop();
    if (args.keep || args.profile) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
