// The built-in step runner: executes queued runs one step at a time, persisting
// each step's result so that a run interrupted by a restart resumes where it was.
// Several instances may share the database, so a run is executed by the instance
// holding its lease: claimed with a conditional update (queued -> running, or an
// expired lease taken over), renewed while the run executes, and every write is
// guarded by `status = 'running' AND lease_owner = me`, so a cancellation or a
// takeover is never overwritten.
//
// While the database is down, a run that cannot be read or written waits and tries
// again (0.5 s doubling to 5 s), holding its place: it resumes from its last persisted
// step within seconds of the database's return. Nothing acknowledged is lost: a run
// exists once its row has committed, and every step's result is persisted before the
// next step begins. The outage is logged once, not once per run or per attempt.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { components } from '../../generated/api.d.ts';
import { OutageLog } from '../background/outage-log.ts';
import type { RunExecution } from '../db/repositories/runs.ts';
import { iso, type Clock } from '../domain/time.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { renderString, renderValue, type TemplateScope } from './templates.ts';

const LEASE_MS = 60_000;
const RENEW_EVERY_MS = 15_000;
/** Queued runs older than this that nobody started (their instance died first) are picked up. */
const STRANDED_AFTER_MS = 10_000;
const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 5_000;

type Step = components['schemas']['WorkflowStep'];
export type StepResult = components['schemas']['RunStepResult'];

export interface StepRunnerOptions {
  /** With a database only this process uses (SQLite), unfinished runs are taken over at start whatever their lease. */
  soleInstance: boolean;
}

export class StepRunner {
  readonly #active = new Map<string, AbortController>();
  readonly #done = new Set<Promise<void>>();
  readonly #owner = `runner_${randomBytes(9).toString('base64url')}`;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #executionOutage: OutageLog;
  readonly #upkeepOutage: OutageLog;

  constructor(
    private readonly runs: RunExecution,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: StepRunnerOptions = { soleInstance: true },
  ) {
    this.#executionOutage = new OutageLog(logger, 'run execution');
    this.#upkeepOutage = new OutageLog(logger, 'run lease upkeep');
  }

  /** Picks up runs left unfinished by a previous process, then keeps leases fresh and watches for orphans. */
  async start(): Promise<number> {
    const taken = await this.takeOver(this.options.soleInstance);
    this.#timer = setInterval(() => {
      this.tick().then(
        () => this.#upkeepOutage.succeeded(),
        (error: unknown) => this.#upkeepOutage.failed(error),
      );
    }, RENEW_EVERY_MS);
    this.#timer.unref();
    return taken;
  }

  /** Starts executing a queued run in the background (or resumes one whose lease it holds). */
  schedule(runId: string, resume = false): void {
    if (this.#stopped || this.#active.has(runId)) return;
    const controller = new AbortController();
    this.#active.set(runId, controller);
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.executeUntilDone(runId, controller.signal, resume))
      .catch((error: unknown) => this.logger.error({ err: error, run_id: runId }, 'run execution failed'))
      .finally(() => {
        this.#active.delete(runId);
        this.#done.delete(done);
      });
    this.#done.add(done);
  }

  /** Executes the run, and again from its last persisted step while the database is unavailable, until it is done or the runner stops. */
  private async executeUntilDone(runId: string, signal: AbortSignal, resume: boolean): Promise<void> {
    for (let failures = 0; ; failures++) {
      try {
        await this.execute(runId, signal, resume);
        this.#executionOutage.succeeded();
        return;
      } catch (error) {
        if (!(error instanceof DependencyUnavailableError)) throw error;
        this.#executionOutage.failed(error, { run_id: runId });
        if (!(await sleep(Math.min(FIRST_RETRY_MS * 2 ** failures, LONGEST_RETRY_MS), signal))) return;
      }
    }
  }

  /** Ends a wait at once after the run was cancelled in the database. */
  interrupt(runId: string): void {
    this.#active.get(runId)?.abort();
  }

  /** Stops taking work, interrupts waits and hands the leases back, so another instance (or the next start) resumes the runs at once. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const controller of this.#active.values()) controller.abort();
    await Promise.allSettled([...this.#done]);
    await this.runs.release(this.#owner, iso(this.clock()));
  }

  /** Resolves when nothing is executing (tests). */
  async idle(): Promise<void> {
    while (this.#done.size > 0) await Promise.allSettled([...this.#done]);
  }

  private async tick(): Promise<void> {
    if (this.#stopped) return;
    const now = this.clock();
    if (this.#active.size > 0) await this.runs.renew(this.#owner, [...this.#active.keys()], iso(now + LEASE_MS));
    await this.takeOver(false);
  }

  /** Claims running runs whose lease has expired (or every unfinished run, when `everything`), and stranded queued runs. */
  private async takeOver(everything: boolean): Promise<number> {
    const now = this.clock();
    const { running, queued: stranded } = await this.runs.takeOver(
      this.#owner,
      everything,
      iso(now),
      iso(now + LEASE_MS),
      everything ? null : iso(now - STRANDED_AFTER_MS),
    );
    const fresh = running.filter((id) => !this.#active.has(id));
    for (const id of fresh) this.schedule(id, true);
    for (const id of stranded) this.schedule(id);
    return fresh.length + stranded.length;
  }

  private async execute(runId: string, signal: AbortSignal, resume: boolean): Promise<void> {
    if (!resume) {
      // A queued run is claimed; one that is not queued any more is read below, and executed only if it
      // is ours (claimed by an attempt that then lost the database), never if it was cancelled or taken elsewhere.
      await this.runs.claim(this.#owner, runId, iso(this.clock()), iso(this.clock() + LEASE_MS));
    }
    const run = await this.runs.read(runId);
    if (run.status !== 'running' || run.lease_owner !== this.#owner) return; // cancelled, or another instance has it
    const steps = JSON.parse(run.definition) as Step[];
    const results = JSON.parse(run.step_results) as StepResult[];
    const vars = JSON.parse(run.variables) as Record<string, unknown>;
    const scope: TemplateScope = {
      input: JSON.parse(run.input) as unknown,
      vars,
      event: run.event_data === null ? undefined : (JSON.parse(run.event_data) as unknown),
    };

    for (let index = 0; index < steps.length; index++) {
      const step = steps[index]!;
      const result = results[index]!;
      if (result.status === 'succeeded') continue;
      if (this.#stopped || signal.aborted) return; // stopping, or cancelled: the canceller wrote the final state
      const startedAt = result.started_at ?? iso(this.clock());
      results[index] = { ...result, status: 'running', started_at: startedAt };
      if (!(await this.save(runId, results, vars))) return;

      let failure: string | null = null;
      // What the step produced, kept in its result so that the run shows it.
      let output: StepResult['output'] = null;
      switch (step.type) {
        case 'set': {
          const values = renderValue(step.values, scope) as Record<string, unknown>;
          // Defined, not assigned: Object.assign would run the `__proto__` setter for a variable
          // of that name (a valid name) and swap the prototype of `vars` instead of storing it.
          for (const [name, value] of Object.entries(values)) {
            Object.defineProperty(vars, name, { value, enumerable: true, writable: true, configurable: true });
          }
          output = values;
          break;
        }
        case 'log': {
          const level = step.level ?? 'info';
          const message = renderString(step.message, scope);
          this.logger[level]({ run_id: runId, step_id: step.id }, message);
          output = { message, level };
          break;
        }
        case 'wait': {
          // On resume, only what remains of the wait.
          const remaining = Date.parse(startedAt) + step.seconds * 1000 - this.clock();
          if (remaining > 0 && !(await sleep(remaining, signal))) return;
          break;
        }
        case 'fail':
          failure = renderString(step.message, scope).slice(0, 1000) || 'The workflow failed.';
          break;
      }

      const finishedAt = iso(this.clock());
      if (failure !== null) {
        results[index] = { ...results[index]!, status: 'failed', finished_at: finishedAt, error: failure };
        for (let later = index + 1; later < results.length; later++)
          results[later] = { ...results[later]!, status: 'skipped' };
        await this.finish(runId, 'failed', results, vars, { step_id: step.id, message: failure });
        return;
      }
      results[index] = { ...results[index]!, status: 'succeeded', finished_at: finishedAt, output };
      if (!(await this.save(runId, results, vars))) return;
    }
    await this.finish(runId, 'succeeded', results, vars, null);
  }

  /** False when the run is no longer ours to write (cancelled meanwhile). */
  private async save(runId: string, results: StepResult[], vars: Record<string, unknown>): Promise<boolean> {
    return this.runs.save(this.#owner, runId, {
      step_results: JSON.stringify(results),
      variables: JSON.stringify(vars),
    });
  }

  private async finish(
    runId: string,
    status: 'succeeded' | 'failed',
    results: StepResult[],
    vars: Record<string, unknown>,
    error: { step_id: string; message: string } | null,
  ): Promise<void> {
    await this.runs.finish(this.#owner, runId, {
      status,
      step_results: JSON.stringify(results),
      variables: JSON.stringify(vars),
      output: JSON.stringify(vars),
      error: error === null ? null : JSON.stringify(error),
      finished_at: iso(this.clock()),
    });
  }
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
