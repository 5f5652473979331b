// Which core the servers run on and which one the load generator does (bench/run.ts):
// on two cores or more, every server under test is started under `taskset -c SERVER` and
// the orchestrating process, which runs autocannon, pins itself and all its threads to
// another core, so that the load generator never takes the server's core. Without
// taskset (util-linux) or with one core, nothing is pinned and the plan says so.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Pinning {
  pinned: boolean;
  /** The core of the orchestrator and autocannon; null when not pinned. */
  loadCpu: number | null;
  /** The core of the server under test; null when not pinned. */
  serverCpu: number | null;
  /** What was done, in words, for the report. */
  note: string;
}

/** The cores this process may run on (Linux: Cpus_allowed_list of /proc/self/status). */
export function allowedCpus(): number[] {
  const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  const cpus: number[] = [];
  for (const part of line.split(',').filter(Boolean)) {
    const [from, to] = part.split('-').map(Number);
    for (let cpu = from!; cpu <= (to ?? from!); cpu++) cpus.push(cpu);
  }
  return cpus;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins this process (every thread, so autocannon's too) to the load core, when it can. */
export function pinLoadGenerator(enabled: boolean): Pinning {
  const unpinned = (note: string): Pinning => ({ pinned: false, loadCpu: null, serverCpu: null, note });
  if (!enabled) return unpinned('not pinned (--no-pin): servers and the load generator share every core');
  if (!hasTaskset())
    return unpinned(
      'not pinned: taskset (util-linux) is not installed, so servers and the load generator share every core',
    );
  const cpus = allowedCpus();
  if (cpus.length < 2)
    return unpinned(`not pinned: one core (${cpus.join(',') || '?'}) for servers and load generator alike`);
  const [loadCpu, serverCpu] = cpus as [number, number];
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', String(loadCpu), String(process.pid)], {
    stdio: 'ignore',
  });
  return {
    pinned: true,
    loadCpu,
    serverCpu,
    note: `servers on CPU ${serverCpu}; the orchestrator and autocannon on CPU ${loadCpu} (of ${cpus.length} allowed: ${cpus.join(',')})`,
  };
}

/** The command that runs `command args` on the server core (the command itself when not pinned). */
export function onServerCore(pinning: Pinning, command: string, args: string[]): [string, string[]] {
  return pinning.pinned ? ['taskset', ['--cpu-list', String(pinning.serverCpu), command, ...args]] : [command, args];
}
