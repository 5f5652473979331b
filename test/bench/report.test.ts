// The benchmark's arithmetic (bench/support/report.ts): failed rounds are left out of every
// figure and ratio, ratios are taken round by round, and the targets of issue 28 are judged
// from those figures. No timing here: the samples are made up.
import { describe, expect, it } from 'vitest';
import {
  bigOverSmall,
  buildRows,
  formatReport,
  judge,
  type Measured,
  type Round,
  type ScenarioId,
  type ServerName,
} from '../../bench/support/report.ts';

const sample = (rps: number, p99 = 10, cpuUs = 100): Round => ({ rps, p50: 5, p99, cpuUs });
const failed: Round = { failed: '3 non-2xx answers, 0 errors, 0 timeouts ({"429":3})' };
const of = (server: ServerName, scenario: ScenarioId, rounds: Round[]): Measured => ({ server, scenario, rounds });

describe('the rows of latest.json', () => {
  it('names each row <server>: <scenario> with the same scenario text for every server', () => {
    const rows = buildRows([of('express', 'get', [sample(100)]), of('ours', 'get', [sample(80)])], {});
    expect(rows.map((r) => r.scenario)).toEqual(['express: GET by id (API key)', 'ours: GET by id (API key)']);
  });

  it('leaves a failed round out of the medians and lists it', () => {
    const rows = buildRows([of('ours', 'post', [sample(100), failed, sample(300)])], {});
    expect(rows[0]).toMatchObject({
      rps: 200,
      rps_rounds: [100, null, 300],
      failed_rounds: [{ round: 2, reason: failed.failed }],
    });
  });

  it('takes each ratio round by round, only where both rounds are good', () => {
    const measured = [
      of('floor', 'get', [sample(100, 10), sample(200, 20), failed]),
      of('assembly', 'get', [sample(40), failed, sample(50)]),
      of('ours', 'get', [sample(90, 12), sample(100, 30), sample(150)]),
    ];
    const ours = buildRows(measured, {}).find((r) => r.server === 'ours')!;
    expect(ours.ratio_vs_floor_rounds).toEqual([0.9, 0.5, null]);
    expect(ours.ratio_vs_floor).toBe(0.7);
    expect(ours.ratio_vs_assembly_rounds).toEqual([2.25, null, 3]);
    expect(ours.p99_ratio_vs_floor).toBe(1.35);
  });

  it('gives no figure when every round failed', () => {
    const rows = buildRows([of('floor', 'get', [failed]), of('ours', 'get', [sample(90)])], {});
    expect(rows.find((r) => r.server === 'floor')).toMatchObject({ rps: null, rps_rounds: [null] });
    expect(rows.find((r) => r.server === 'ours')!.ratio_vs_floor).toBeNull();
  });
});

describe('the targets of issue 28', () => {
  const all = (ours: number, floor: number, assembly: number, p99 = 10): Measured[] =>
    (['get', 'jwt', 'list', 'post'] as const).flatMap((s) => [
      of('floor', s, [sample(floor)]),
      of('assembly', s, [sample(assembly)]),
      of('ours', s, [sample(ours, p99)]),
    ]);

  it('holds when ours is 2.5x the assembly and 0.9x the floor with a p99 within 1.2x', () => {
    const measured = [...all(900, 1000, 360, 12), of('ours', 'big', [sample(810)])];
    const rows = buildRows(measured, { ours: [400, 450, 420] });
    const targets = judge(rows, measured);
    expect(targets).toHaveLength(14);
    expect(targets.filter((t) => !t.ok)).toEqual([]);
  });

  it('misses each one that is not held, and one with no figure', () => {
    const measured = [...all(890, 1000, 360, 13), of('ours', 'big', [sample(700)])];
    const rows = buildRows(measured, { ours: [500] });
    const missed = judge(rows, measured)
      .filter((t) => !t.ok)
      .map((t) => t.target);
    expect(missed).toContain('ours >= 0.9x the floor: GET by id (API key)');
    expect(missed).not.toContain('ours >= 0.85x the floor: POST');
    expect(missed).toContain("ours' p99 <= 1.2x the floor's: POST");
    expect(missed).toContain('ours: start-up to first successful request < 500 ms (median, server on one core)');
    expect(missed).toContain('ours: list of 20 at 100k within 10 % of 1k (req/s, 100k / 1k)');
    const unmeasured = [of('assembly', 'get', [failed]), of('ours', 'get', [sample(900)])];
    expect(judge(buildRows(unmeasured, {}), unmeasured)).toEqual([
      { target: 'ours >= 2.5x the assembly: GET by id (API key)', value: null, ok: false },
    ]);
  });

  it('compares the list at 100k with the list at 1k round by round', () => {
    const measured = [of('ours', 'list', [sample(1000), sample(2000)]), of('ours', 'big', [sample(950), sample(1700)])];
    expect(bigOverSmall(measured).rps).toBe(0.9);
    expect(formatReport(buildRows(measured, {}), measured, [])).toContain('list of 20 at 100k against 1k: 0.90x req/s');
  });
});
