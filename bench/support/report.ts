// What bench/run.ts makes of its rounds: the rows of bench/results/latest.json, the tables
// it prints and the verdict on each target of issue 28. Every ratio is taken round by round
// (ours and the other server in the same round) and the median of those is reported, so a
// slow minute of the machine weighs on both sides of a ratio. Failed rounds (any refused
// request) are left out of every figure and listed.

export type ServerName = 'raw-node' | 'express' | 'floor' | 'assembly' | 'ours';
export type ScenarioId = 'get' | 'jwt' | 'list' | 'post' | 'big';

/** The scenario's text, the same for every server: rows are named `<server>: <text>`. */
export const SCENARIO_TEXT: Record<ScenarioId, string> = {
  get: 'GET by id (API key)',
  jwt: 'GET by id (JWT)',
  list: 'list of 20 (1k in project)',
  post: 'POST',
  big: 'list of 20 (100k in project)',
};

export interface Sample {
  rps: number;
  p50: number;
  p99: number;
  /** The server's CPU time (all its threads) over the round, per request answered. */
  cpuUs: number;
}

/** One round of one server on one scenario: its figures, or why it was left out. */
export type Round = Sample | { failed: string };

export interface Measured {
  server: ServerName;
  scenario: ScenarioId;
  /** Indexed by round. */
  rounds: Round[];
}

export interface ResultRow {
  scenario: string;
  server: ServerName;
  rps: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  /** Median over good rounds of the server's CPU time (all threads) per request, µs. */
  cpu_us_per_request: number | null;
  /** Per-round req/s, null for a failed round. */
  rps_rounds: Array<number | null>;
  failed_rounds: Array<{ round: number; reason: string }>;
  /** Medians of per-round ratios (this server's req/s over the other's, same round). */
  ratio_vs_express?: number | null;
  ratio_vs_floor?: number | null;
  ratio_vs_assembly?: number | null;
  ratio_vs_floor_rounds?: Array<number | null>;
  ratio_vs_assembly_rounds?: Array<number | null>;
  /** Median of per-round (this server's p99 / the floor's p99). */
  p99_ratio_vs_floor?: number | null;
  startup_ms_median?: number;
  startup_ms_runs?: number[];
}

export interface Target {
  target: string;
  value: number | null;
  ok: boolean;
}

const isSample = (round: Round | undefined): round is Sample => round !== undefined && !('failed' in round);
export const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const round = (x: number | null, digits = 2): number | null => (x === null ? null : Number(x.toFixed(digits)));

/** Per round, `pick(mine) / pick(theirs)` where both rounds are good. */
function perRound(mine: Round[], theirs: Round[] | undefined, pick: (s: Sample) => number): Array<number | null> {
  return mine.map((r, i) => {
    const other = theirs?.[i];
    return isSample(r) && isSample(other) && pick(other) > 0 ? pick(r) / pick(other) : null;
  });
}
const medianOf = (xs: Array<number | null>) => median(xs.filter((x): x is number => x !== null));

export function buildRows(measured: Measured[], startups: Partial<Record<ServerName, number[]>>): ResultRow[] {
  const find = (server: ServerName, scenario: ScenarioId) =>
    measured.find((m) => m.server === server && m.scenario === scenario)?.rounds;
  const rows: ResultRow[] = measured.map(({ server, scenario, rounds }) => {
    const good = rounds.filter(isSample);
    const row: ResultRow = {
      scenario: `${server}: ${SCENARIO_TEXT[scenario]}`,
      server,
      rps: round(median(good.map((s) => s.rps)), 0),
      p50_ms: round(median(good.map((s) => s.p50))),
      p99_ms: round(median(good.map((s) => s.p99))),
      cpu_us_per_request: round(median(good.map((s) => s.cpuUs)), 0),
      rps_rounds: rounds.map((r) => (isSample(r) ? Math.round(r.rps) : null)),
      failed_rounds: rounds.flatMap((r, i) => (isSample(r) ? [] : [{ round: i + 1, reason: r.failed }])),
    };
    if (server !== 'express' && find('express', scenario))
      row.ratio_vs_express = round(medianOf(perRound(rounds, find('express', scenario), (s) => s.rps)));
    if ((server === 'ours' || server === 'assembly') && find('floor', scenario)) {
      const vsFloor = perRound(rounds, find('floor', scenario), (s) => s.rps);
      row.ratio_vs_floor = round(medianOf(vsFloor));
      row.ratio_vs_floor_rounds = vsFloor.map((x) => round(x));
      row.p99_ratio_vs_floor = round(medianOf(perRound(rounds, find('floor', scenario), (s) => s.p99)));
    }
    if (server === 'ours' && find('assembly', scenario)) {
      const vsAssembly = perRound(rounds, find('assembly', scenario), (s) => s.rps);
      row.ratio_vs_assembly = round(medianOf(vsAssembly));
      row.ratio_vs_assembly_rounds = vsAssembly.map((x) => round(x));
    }
    return row;
  });
  for (const [server, runs] of Object.entries(startups) as Array<[ServerName, number[]]>) {
    if (runs.length === 0) continue;
    rows.push({
      scenario: `${server}: start-up to first successful request`,
      server,
      rps: null,
      p50_ms: null,
      p99_ms: null,
      cpu_us_per_request: null,
      rps_rounds: [],
      failed_rounds: [],
      startup_ms_median: round(median(runs), 0)!,
      startup_ms_runs: runs.map((ms) => Math.round(ms)),
    });
  }
  return rows;
}

/** Ours' list at 100k over its list at 1k, req/s per round (median) and p50 (medians). */
export function bigOverSmall(measured: Measured[]): { rps: number | null; p50: number | null } {
  const small = measured.find((m) => m.server === 'ours' && m.scenario === 'list')?.rounds;
  const big = measured.find((m) => m.server === 'ours' && m.scenario === 'big')?.rounds;
  if (!small || !big) return { rps: null, p50: null };
  const p50 = (rounds: Round[]) => median(rounds.filter(isSample).map((s) => s.p50));
  const [bigP50, smallP50] = [p50(big), p50(small)];
  return {
    rps: round(medianOf(perRound(big, small, (s) => s.rps))),
    p50: bigP50 !== null && smallP50 ? round(bigP50 / smallP50) : null,
  };
}

export function judge(rows: ResultRow[], measured: Measured[]): Target[] {
  const ours = (scenario: ScenarioId) => rows.find((r) => r.scenario === `ours: ${SCENARIO_TEXT[scenario]}`);
  const targets: Target[] = [];
  const atLeast = (target: string, value: number | null | undefined, min: number) =>
    targets.push({ target, value: value ?? null, ok: value != null && value >= min });
  const atMost = (target: string, value: number | null | undefined, max: number) =>
    targets.push({ target, value: value ?? null, ok: value != null && value <= max });
  const main: ScenarioId[] = ['get', 'jwt', 'list', 'post'];
  for (const scenario of main) {
    const row = ours(scenario);
    if (row?.ratio_vs_assembly !== undefined)
      atLeast(`ours >= 2.5x the assembly: ${SCENARIO_TEXT[scenario]}`, row.ratio_vs_assembly, 2.5);
  }
  for (const scenario of main) {
    const min = scenario === 'post' ? 0.85 : 0.9;
    const row = ours(scenario);
    if (row?.ratio_vs_floor !== undefined)
      atLeast(`ours >= ${min}x the floor: ${SCENARIO_TEXT[scenario]}`, row.ratio_vs_floor, min);
  }
  for (const scenario of main) {
    const row = ours(scenario);
    if (row?.p99_ratio_vs_floor !== undefined)
      atMost(`ours' p99 <= 1.2x the floor's: ${SCENARIO_TEXT[scenario]}`, row.p99_ratio_vs_floor, 1.2);
  }
  const startup = rows.find((r) => r.scenario === 'ours: start-up to first successful request');
  if (startup)
    atMost(
      'ours: start-up to first successful request < 500 ms (median, server on one core)',
      startup.startup_ms_median,
      499.999,
    );
  const big = bigOverSmall(measured);
  if (big.rps !== null) atLeast('ours: list of 20 at 100k within 10 % of 1k (req/s, 100k / 1k)', big.rps, 0.9);
  return targets;
}

function table(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return `${fmt(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${lines.map(fmt).join('\n')}`;
}
const show = (x: number | null | undefined, suffix = '') => (x == null ? '-' : `${x}${suffix}`);
const ratio = (x: number | null | undefined) => (x == null ? '-' : `${x.toFixed(2)}x`);

/** The tables `npm run bench` prints: every server's rows, then ours against the others per scenario. */
export function formatReport(rows: ResultRow[], measured: Measured[], targets: Target[]): string {
  const out: string[] = [];
  const measuredRows = rows.filter((r) => r.startup_ms_runs === undefined);
  out.push(
    table(
      ['server: scenario', 'req/s', 'p50 ms', 'p99 ms', 'µs CPU/req', 'req/s per round', 'failed rounds'],
      measuredRows.map((r) => [
        r.scenario,
        show(r.rps),
        show(r.p50_ms),
        show(r.p99_ms),
        show(r.cpu_us_per_request),
        r.rps_rounds.map((x) => show(x)).join(' / '),
        r.failed_rounds.map((f) => f.round).join(', '),
      ]),
    ),
  );
  const byScenario = (Object.keys(SCENARIO_TEXT) as ScenarioId[]).filter((s) => measured.some((m) => m.scenario === s));
  const row = (server: ServerName, scenario: ScenarioId) =>
    rows.find((r) => r.scenario === `${server}: ${SCENARIO_TEXT[scenario]}`);
  const cell = (server: ServerName, scenario: ScenarioId) => {
    const r = row(server, scenario);
    return r ? `${show(r.rps)} (${show(r.cpu_us_per_request)} µs)` : '-';
  };
  out.push(
    '',
    'req/s (µs of server CPU per request), and ours against each:',
    table(
      [
        'scenario',
        'Express',
        'floor',
        'assembly',
        'ours',
        'ours/assembly',
        'ours/floor',
        'ours/Express',
        'p99 ours',
        'p99 floor',
        'p99 ours/floor',
      ],
      byScenario.map((scenario) => {
        const mine = row('ours', scenario);
        return [
          SCENARIO_TEXT[scenario],
          cell('express', scenario),
          cell('floor', scenario),
          cell('assembly', scenario),
          cell('ours', scenario),
          ratio(mine?.ratio_vs_assembly),
          ratio(mine?.ratio_vs_floor),
          ratio(mine?.ratio_vs_express),
          show(mine?.p99_ms, ' ms'),
          show(row('floor', scenario)?.p99_ms, ' ms'),
          ratio(mine?.p99_ratio_vs_floor),
        ];
      }),
    ),
  );
  out.push('');
  for (const r of rows.filter((x) => x.startup_ms_runs !== undefined)) {
    out.push(`${r.scenario}: ${r.startup_ms_median} ms median (runs: ${r.startup_ms_runs!.join(', ')} ms)`);
  }
  const big = bigOverSmall(measured);
  if (big.rps !== null) out.push(`ours: list of 20 at 100k against 1k: ${ratio(big.rps)} req/s, ${ratio(big.p50)} p50`);
  out.push(
    '',
    'targets (issue 28):',
    ...targets.map((t) => `  ${t.ok ? 'ok  ' : 'MISS'}  ${t.target}: ${show(t.value)}`),
  );
  return out.join('\n');
}
