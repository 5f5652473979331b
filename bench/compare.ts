// `npm run bench:compare -- --base REV`: one request, under load, against two builds of
// our server: the working tree's and the one of git revision REV. For judging a change
// to the hot path on these machines, where the same code's throughput drifts by 20-30 %
// from one minute to the next (docs/performance.md): the two builds run side by side
// on copies of one seeded database, and take turns in alternating rounds (A B, B A,
// A B, ...), so a slow minute lands on both. Besides req/s, each round reads the
// server's CPU time (all its threads, /proc/PID/stat) before and after, and reports
// CPU microseconds per request: what a change costs or saves, and much steadier than
// req/s when the load generator and the server share two cores.
//
//   npm run bench:compare -- --base HEAD~1                 GET by id, 6 rounds x 8 s
//   npm run bench:compare -- --base 7110c29 --scenario post --rounds 8
//
// The base is checked out in a temporary git worktree (with this tree's node_modules),
// built with its own scripts/build.mjs and started from its own bundle; the data are
// seeded once, by this tree's bench/prepare.ts. Linux only (/proc).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { prepare, WORKFLOW, type BenchData } from './prepare.ts';
import { cpuMicros, freePort, request, stopChild } from './support/processes.ts';

const root = path.resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    scenario: { type: 'string', default: 'get' },
    rounds: { type: 'string', default: '6' },
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
  },
});
const SCENARIOS = ['get', 'list', 'page', 'post', 'jwt'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

interface Build {
  label: string;
  /** The bundle to run (dist/main.js of the tree it was built in). */
  bundle: string;
}

interface Server {
  label: string;
  url: string;
  child: ChildProcess;
}

interface Round {
  label: string;
  rps: number;
  p99: number;
  cpuUsPerRequest: number;
}

function git(...gitArgs: string[]): string {
  return execFileSync('git', gitArgs, { cwd: root, encoding: 'utf8' }).trim();
}

/** The base revision, built in a worktree of its own; the working tree, built in place. */
function buildBoth(work: string, base: string): { current: Build; base: Build } {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  const tree = path.join(work, 'base');
  git('worktree', 'add', '--detach', '--quiet', tree, base);
  symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'), 'dir');
  if (
    readFileSync(path.join(tree, 'package-lock.json'), 'utf8') !==
    readFileSync(path.join(root, 'package-lock.json'), 'utf8')
  ) {
    console.warn(
      `warning: ${base}'s package-lock.json differs from the working tree's; the base runs on this tree's node_modules`,
    );
  }
  execFileSync(process.execPath, [path.join(tree, 'scripts', 'build.mjs')], { cwd: tree, stdio: 'inherit' });
  return {
    current: { label: 'working tree', bundle: path.join(root, 'dist', 'main.js') },
    base: { label: `base ${git('rev-parse', '--short', base)}`, bundle: path.join(tree, 'dist', 'main.js') },
  };
}

async function start(build: Build, data: BenchData, dataDir: string, logFile: string): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [build.bundle], {
    cwd: path.dirname(path.dirname(build.bundle)),
    env: { PATH: process.env.PATH ?? '', ...data.env, DATA_DIR: dataDir, PORT: String(port) },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const startedAt = performance.now();
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${build.label} exited at start:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    const answer = await request(`${url}/v1/workflows/${data.workflowId}`, {
      headers: { 'X-Forwarded-Proto': 'https', Authorization: `Bearer ${data.key}` },
    }).catch(() => null);
    if (answer?.status === 200) return { label: build.label, url, child };
    if (performance.now() - startedAt > 60_000) throw new Error(`${build.label} did not start within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The scenario's request against one server (the JWT is each server's own: a session lives in its database). */
async function scenarioFor(name: ScenarioName, server: Server, data: BenchData): Promise<autocannon.Options> {
  const headers = (key: string) => ({ 'X-Forwarded-Proto': 'https', Authorization: `Bearer ${key}` });
  const common = { url: server.url, connections: Number(args.connections), pipelining: 1 };
  switch (name) {
    case 'get':
      return { ...common, url: `${server.url}/v1/workflows/${data.workflowId}`, headers: headers(data.key) };
    case 'list':
      return { ...common, url: `${server.url}/v1/workflows`, headers: headers(data.key) };
    case 'page': {
      // The second page of the list: a query string (limit and cursor), as every page after the first has.
      const first = await request(`${server.url}/v1/workflows?limit=20`, { headers: headers(data.key) });
      const cursor = (JSON.parse(first.body) as { next_cursor?: string | null }).next_cursor;
      if (first.status !== 200 || !cursor)
        throw new Error(`first page on ${server.label}: ${first.status} ${first.body.slice(0, 200)}`);
      return { ...common, url: `${server.url}/v1/workflows?limit=20&cursor=${cursor}`, headers: headers(data.key) };
    }
    case 'post':
      return {
        ...common,
        url: `${server.url}/v1/workflows`,
        method: 'POST',
        headers: { ...headers(data.writeKey), 'Content-Type': 'application/json' },
        body: JSON.stringify(WORKFLOW),
      };
    case 'jwt': {
      const answer = await request(`${server.url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'X-Forwarded-Proto': 'https', 'Content-Type': 'application/json' },
        body: JSON.stringify(data.owner),
      });
      if (answer.status !== 200) throw new Error(`login on ${server.label}: ${answer.status} ${answer.body}`);
      const token = (JSON.parse(answer.body) as { data: { token: string } }).data.token;
      return { ...common, url: `${server.url}/v1/workflows/${data.liveWorkflowId}`, headers: headers(token) };
    }
  }
}

async function measure(server: Server, options: autocannon.Options, seconds: number): Promise<Round> {
  const alive = () => {
    if (server.child.exitCode !== null || server.child.signalCode !== null)
      throw new Error(
        `${server.label} exited during the run (${server.child.signalCode ?? `code ${server.child.exitCode}`})`,
      );
  };
  alive();
  const before = cpuMicros(server.child.pid!);
  const result = await autocannon({ ...options, duration: seconds });
  alive();
  const after = cpuMicros(server.child.pid!);
  const refused = result.non2xx + result.errors + result.timeouts;
  if (refused > 0)
    throw new Error(
      `${server.label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts (${JSON.stringify(result.statusCodeStats)})`,
    );
  return {
    label: server.label,
    rps: result.requests.average,
    p99: result.latency.p99,
    cpuUsPerRequest: (after - before) / result.requests.total,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  if (!args.base)
    throw new Error(
      'usage: npm run bench:compare -- --base REV [--scenario get|list|page|post|jwt] [--rounds 6] [--duration 8]',
    );
  const scenario = args.scenario as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const rounds = Number(args.rounds);
  const seconds = Number(args.duration);
  const work = mkdtempSync(path.join(tmpdir(), 'aetherflow-compare-'));
  const servers: Server[] = [];
  // Ctrl-C ends the run through the same clean-up (servers stopped, worktree removed).
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
  });
  const check = () => {
    if (interrupted) throw new Error('interrupted');
  };
  try {
    const builds = buildBoth(work, args.base);
    check();
    const data = await prepare(work, { small: 1000, big: 1 });
    check();
    // Each server gets its own copy of the seeded data: neither sees the other's writes.
    const baseData = path.join(work, 'data-base');
    cpSync(data.dataDir, baseData, { recursive: true });
    servers.push(await start(builds.current, data, data.dataDir, path.join(work, 'current.log')));
    servers.push(await start(builds.base, data, baseData, path.join(work, 'base.log')));
    const options = new Map<Server, autocannon.Options>();
    for (const server of servers) {
      options.set(server, await scenarioFor(scenario, server, data));
      await autocannon({ ...options.get(server)!, duration: 2 });
    }
    console.log(
      `compare: ${scenario}, ${rounds} rounds x ${seconds} s, ${args.connections} connections, turns alternating; work dir ${work}`,
    );
    const results: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) {
        check();
        const round = await measure(server, options.get(server)!, seconds);
        results.push(round);
        console.log(
          `  round ${r + 1}  ${round.label.padEnd(14)} ${round.rps.toFixed(0).padStart(6)} req/s  p99 ${String(round.p99).padStart(4)} ms  ${round.cpuUsPerRequest.toFixed(0).padStart(5)} µs CPU/request`,
        );
      }
    }
    const of = (label: string) => results.filter((round) => round.label === label);
    const [current, base] = [of(servers[0]!.label), of(servers[1]!.label)];
    // Per round pair: the working tree against the base in the same minute.
    const rpsRatios = current.map((round, i) => round.rps / base[i]!.rps);
    const cpuRatios = current.map((round, i) => round.cpuUsPerRequest / base[i]!.cpuUsPerRequest);
    console.log('\n                      req/s (median)   µs CPU/request (median)');
    for (const [label, rows] of [
      [servers[0]!.label, current],
      [servers[1]!.label, base],
    ] as const) {
      console.log(
        `  ${label.padEnd(18)} ${median(rows.map((x) => x.rps))
          .toFixed(0)
          .padStart(10)}   ${median(rows.map((x) => x.cpuUsPerRequest))
          .toFixed(0)
          .padStart(12)}`,
      );
    }
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
    console.log(
      `  working tree / base: req/s ${median(rpsRatios).toFixed(2)}x (rounds ${range(rpsRatios)}), CPU per request ${median(cpuRatios).toFixed(2)}x (rounds ${range(cpuRatios)})`,
    );
  } finally {
    await Promise.all(servers.map((server) => stopChild(server.child)));
    if (existsSync(path.join(work, 'base'))) git('worktree', 'remove', '--force', path.join(work, 'base'));
    if (!args.keep) rmSync(work, { recursive: true, force: true });
  }
}

await main().catch((error: unknown) => {
  console.error(`bench:compare: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
