// `npm test` runs every test once (no watch). Contract tests start Prism or the
// server in beforeAll (a few seconds), so hooks get 60 s; a single call takes
// tens of milliseconds, but a scenario may set up state with several calls.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    watch: false,
    testTimeout: 15_000,
    hookTimeout: 60_000,
    teardownTimeout: 15_000,
    // Child processes, so a crashed test file cannot take the others' servers down with it.
    pool: 'forks',
  },
});
