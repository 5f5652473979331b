// `npm test` runs every test once (no watch). Contract tests start Prism or the
// server in beforeAll (a few seconds), so hooks get 60 s; a single call takes
// tens of milliseconds, but a scenario may set up state with several calls.
//
// *.scaleout.test.ts files need PostgreSQL and Redis: they are part of the run
// when TEST_DATABASE_URL and TEST_REDIS_URL are set (.ci/run's second pass, which
// also runs every other test on PostgreSQL and Redis), and left out otherwise, so
// a plain `npm test` on a fresh machine needs nothing but Node.
//
// `@aetherflow/sdk` resolves to the SDK's sources here, as tsconfig.json's `paths`
// makes it for tsc and tsx: the package's own exports point at its build (dist/),
// which only `npm pack` makes (test/sdk/package.test.ts installs that).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const scaleOut = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

export default defineConfig({
  resolve: {
    alias: { '@aetherflow/sdk': fileURLToPath(new URL('./sdk/typescript/src/index.ts', import.meta.url)) },
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(scaleOut ? [] : ['test/**/*.scaleout.test.ts'])],
    watch: false,
    reporters: ['default', './test/support/no-skips-reporter.ts'],
    testTimeout: 15_000,
    hookTimeout: 60_000,
    teardownTimeout: 15_000,
    // Child processes, so a crashed test file cannot take the others' servers down with it.
    pool: 'forks',
  },
});
