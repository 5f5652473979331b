// Prepares the benchmark's data directory: a SQLite database bootstrapped exactly
// as a first `npm start` does it, then seeded through the service layer (one
// workflow each, so rows have the real shape) and a bulk insert (the rest):
//   - the bootstrap project, `test` environment: 1,000 workflows (GET by id, list);
//     its `live` environment: one workflow, for the JWT scenario (a session acts
//     on the user's default project in its live environment);
//   - a second project: 100,000 workflows (list latency at size);
//   - a third project that receives the POSTs, so that writes never change the
//     size of the lists being measured.
// Runs in the orchestrator's process, before any server process starts.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bootstrap } from '../src/bootstrap.ts';
import { ownerAuthority, type UserPrincipal } from '../src/auth/principal.ts';
import { composeServer } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { newId } from '../src/domain/ids.ts';
import type { WorkflowInput } from '../src/domain/workflows.ts';
import { createLogger } from '../src/logging/logger.ts';

export interface BenchData {
  dataDir: string;
  /** The environment every server process of ours gets (production configuration). */
  env: Record<string, string>;
  owner: { email: string; password: string };
  /** All-scopes sk_test key of the bootstrap project (1k workflows). */
  key: string;
  /** A workflow of that project, for GET by id. */
  workflowId: string;
  /** A workflow in the same project's live environment (where a session acts). */
  liveWorkflowId: string;
  /** Read key of the project holding 100k workflows. */
  bigKey: string;
  /** Write key of the project that receives the POSTs. */
  writeKey: string;
}

export const WORKFLOW: WorkflowInput = {
  name: 'Nightly invoice sync',
  description: 'Pulls the invoices of the day and posts a summary.',
  trigger: { type: 'manual' },
  steps: [
    { id: 'fetch', type: 'set', values: { source: 'billing', day: '{{input.day}}' } },
    { id: 'note', type: 'log', message: 'Syncing invoices for {{input.day}}', level: 'info' },
    { id: 'pause', type: 'wait', seconds: 1 },
  ],
};

const OWNER = { email: 'bench@example.com', password: 'bench password, long enough' };

/** 1,000 and 100,000 by default; smaller for a quick run (BENCH_SMALL_ROWS/BENCH_BIG_ROWS). */
export async function prepare(root: string, sizes: { small: number; big: number }): Promise<BenchData> {
  const dataDir = path.join(root, 'data');
  mkdirSync(dataDir, { recursive: true });
  const rateLimitFile = path.join(root, 'rate-limits.yaml');
  writeFileSync(rateLimitFile, hugeLimits());
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    PUBLIC_URL: 'https://api.bench.example',
    AETHERFLOW_HASH_SECRET: randomBytes(32).toString('base64'),
    AETHERFLOW_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    AETHERFLOW_OWNER_EMAIL: OWNER.email,
    AETHERFLOW_OWNER_PASSWORD: OWNER.password,
    // Production refuses plain HTTP even from loopback: the bench plays a TLS-terminating
    // proxy on 127.0.0.1 (trusted) that sends X-Forwarded-Proto: https.
    TRUSTED_PROXIES: '127.0.0.1',
    RATE_LIMIT_CONFIG: rateLimitFile,
    LOG_LEVEL: 'info',
  };
  const config = loadConfig({ ...env, PORT: '0' });
  const server = await composeServer(config, { logger: createLogger({ level: 'warn' }) });
  try {
    const first = await bootstrap(
      config,
      server.services.accounts,
      server.services.apiKeys,
      server.services.transaction,
    );
    if (!first) throw new Error(`${dataDir} is not empty`);
    const { accounts, apiKeys, workflows, transaction } = server.services;
    await accounts.setPlan(first.accountId, 'enterprise');
    const principal = (projectId: string): UserPrincipal =>
      ownerAuthority({
        userId: 'usr_bench',
        accountId: first.accountId,
        projectId,
        environment: 'test',
        plan: 'enterprise',
        label: 'bench',
      });
    const bigProject = await accounts.createProject(first.accountId, 'Bench: 100k workflows');
    const writeProject = await accounts.createProject(first.accountId, 'Bench: writes');
    const bigKey = (
      await transaction((tx) =>
        apiKeys.create(principal(bigProject), { name: 'bench read', type: 'secret', scopes: ['workflows:read'] }, tx),
      )
    ).secret;
    const writeKey = (
      await transaction((tx) =>
        apiKeys.create(
          principal(writeProject),
          { name: 'bench write', type: 'secret', scopes: ['workflows:read', 'workflows:write'] },
          tx,
        ),
      )
    ).secret;

    const small = { projectId: first.projectId, environment: 'test' as const };
    const workflow = await transaction((tx) => workflows.create(small, WORKFLOW, tx));
    const live = await transaction((tx) =>
      workflows.create({ projectId: first.projectId, environment: 'live' }, WORKFLOW, tx),
    );
    await bulkWorkflows(server.database.db, small, sizes.small - 1, workflow.created_at);
    await transaction((tx) => workflows.create({ projectId: bigProject, environment: 'test' }, WORKFLOW, tx));
    await bulkWorkflows(
      server.database.db,
      { projectId: bigProject, environment: 'test' },
      sizes.big - 1,
      workflow.created_at,
    );
    return {
      dataDir,
      env,
      owner: OWNER,
      key: first.testKey,
      workflowId: workflow.id,
      liveWorkflowId: live.id,
      bigKey,
      writeKey,
    };
  } finally {
    await server.close();
  }
}

/** Rows shaped like the service's, older than `before` and one millisecond apart, inserted in batches. */
async function bulkWorkflows(
  db: Awaited<ReturnType<typeof composeServer>>['database']['db'],
  scope: { projectId: string; environment: 'live' | 'test' },
  count: number,
  before: string,
): Promise<void> {
  const start = Date.parse(before);
  const steps = JSON.stringify(WORKFLOW.steps);
  const BATCH = 500;
  await db.transaction().execute(async (trx) => {
    for (let offset = 0; offset < count; offset += BATCH) {
      const rows = [];
      for (let i = offset; i < Math.min(count, offset + BATCH); i++) {
        const at = new Date(start - (i + 1) * 1000).toISOString();
        rows.push({
          id: newId('wf'),
          project_id: scope.projectId,
          environment: scope.environment,
          name: `${WORKFLOW.name} #${i}`,
          description: WORKFLOW.description ?? null,
          status: 'active' as const,
          trigger_type: 'manual' as const,
          event_type: null,
          steps,
          version: 1,
          created_at: at,
          updated_at: at,
          deleted_at: null,
        });
      }
      await trx.insertInto('workflows').values(rows).execute();
    }
  });
}

/** The default policy's shape, with limits no benchmark reaches. */
function hugeLimits(): string {
  const policy = (name: string, window: string) => `    name: ${name}\n    limit: 1000000000\n    window: ${window}\n`;
  const item = (name: string, window: string) =>
    `    - name: ${name}\n      limit: 1000000000\n      window: ${window}\n`;
  const plan = `${item('plan-minute', '1m')}${item('plan-hour', '1h')}`;
  return [
    'version: 1',
    'sliding_window:',
    '  buckets_per_window: 60',
    'categories:',
    `  read:\n${policy('read', '1m')}  write:\n${policy('write', '1m')}  execute:\n${policy('execute', '1m')}`,
    `events_per_client_ip:\n${policy('events-ip', '1m').replace(/^ {2}/gm, '')}`,
    `plans:\n  free:\n${plan}  pro:\n${plan}  enterprise:\n${plan}`,
    `auth_methods:\n  api_key:\n${policy('api-key', '1h')}  oauth:\n${policy('oauth-token', '1h')}  jwt:\n${policy('jwt', '1h')}`,
    `guards:\n  login:\n${policy('login', '15m')}  failed_credentials:\n${policy('failed-credentials', '1m')}  leaked_key_reports:\n${policy('leaked-key-reports', '1m')}`,
    '',
  ].join('\n');
}
