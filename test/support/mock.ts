// `npm run mock` for a test: the front (src/mock/) and Prism behind it, on free
// loopback ports, stopped at the end of the test file.
import path from 'node:path';
import { startMock, type RunningMock } from '../../src/mock/mock-server.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

export function startTestMock(options: { dynamic?: boolean } = {}): Promise<RunningMock> {
  return startMock({ root, port: 0, ...(options.dynamic ? { dynamic: true } : {}) });
}
