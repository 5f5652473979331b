// Checkpoints of the SQLite WAL run on a worker thread, with a connection of its own,
// instead of inside the commit of whichever request crossed wal_autocheckpoint.
//
// A checkpoint copies the WAL's pages back into the database file and fsyncs it; on
// the event loop it stalled every request in flight for tens of milliseconds once per
// 10,000 pages written (a few seconds of workflow creations under load), which is what
// a POST's p99 was made of. A PASSIVE checkpoint never blocks the writer or the readers,
// so the worker copies the pages while the event loop keeps committing (the measured
// stalls, with and without it: docs/performance.md). The event loop's own
// autocheckpoint stays as the backstop: it still fires at 10,000 pages (it is also what
// restarts the WAL from its beginning, since under constant writes the worker rarely
// catches up between two commits), but finds the pages already copied and only has the
// newest few left, so it no longer stalls. If the worker cannot run, nothing else
// changes.
//
// A checkpoint is not a commit: it does not change `PRAGMA data_version` for the
// event loop's connection, so the authentication caches are not flushed by it
// (test/server/sqlite-database.test.ts).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointReport {
  /** Pages in the WAL when the checkpoint ran. */
  walPages: number;
  /** Pages of the WAL now copied into the database file. */
  checkpointedPages: number;
}

export interface BackgroundCheckpoints {
  /** Stops the worker and closes its connection; call before the last connection closes. */
  stop(): Promise<void>;
}

export interface BackgroundCheckpointOptions {
  /** While pages are being written (20 ms). */
  minIntervalMs?: number;
  /** While the database is idle (500 ms). */
  maxIntervalMs?: number;
  /** The worker failed (it could not open the file, or a checkpoint threw): the backstop remains. */
  onError?: (error: Error) => void;
  /** Each checkpoint that copied pages (tests). */
  onCheckpoint?: (report: CheckpointReport) => void;
}

/**
 * The worker's code, plain JavaScript run from this string (`eval`): the same text runs
 * from the TypeScript sources and from the bundle, which rewrites the `require` of any
 * code it compiles (a function's toString() did not survive it: quick-start.test.ts).
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
// Never waits for a lock: a PASSIVE checkpoint that finds the checkpoint lock taken (by
// the event loop's autocheckpoint) tries again at the next tick.
db.pragma('busy_timeout = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
// Every few milliseconds while pages are being written (small checkpoints keep the
// event loop's writes from queueing behind a long one), backing off to the slowest
// pace while the database is idle.
let copied = -1;
let delay = workerData.maxIntervalMs;
let timer;
const tick = () => {
  try {
    const { log, checkpointed } = checkpoint.get();
    const progressed = checkpointed > 0 && checkpointed !== copied;
    // Only progress is reported: an idle database is checked without a message.
    if (progressed) parentPort.postMessage({ walPages: log, checkpointedPages: checkpointed });
    copied = checkpointed;
    delay = progressed ? workerData.minIntervalMs : Math.min(delay * 2, workerData.maxIntervalMs);
  } catch (error) {
    if (error.code !== 'SQLITE_BUSY') throw error;
  }
  timer = setTimeout(tick, delay);
};
timer = setTimeout(tick, workerData.minIntervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

export function startBackgroundCheckpoints(
  file: string,
  options: BackgroundCheckpointOptions = {},
): BackgroundCheckpoints {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      file,
      driver,
      minIntervalMs: options.minIntervalMs ?? 20,
      maxIntervalMs: options.maxIntervalMs ?? 500,
    },
    // Its own small heap: it holds one connection and one statement.
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
  });
  // Never keeps the process alive by itself (the server's socket and the stop below do).
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('error', (error) => options.onError?.(error));
  worker.on('message', (report: CheckpointReport) => options.onCheckpoint?.(report));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        worker.postMessage('stop');
        // A worker wedged in a checkpoint is terminated rather than waited for forever.
        const deadline = setTimeout(() => void worker.terminate().catch(() => undefined), 5_000);
        await exited;
        clearTimeout(deadline);
      })();
      return stopping;
    },
  };
}
