// In CI nothing may be skipped: a test that cannot run in one configuration is
// not defined there (see vitest.config.ts), never skipped. This reporter fails the
// run when CI=true and any test was skipped or left as a todo.
import type { Reporter, TestModule } from 'vitest/node';

export default class NoSkipsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (process.env.CI !== 'true') return;
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'skipped' || state === 'pending') skipped.push(`${module.moduleId}: ${test.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    process.stderr.write(
      `\nCI forbids skipped tests; ${skipped.length} were skipped:\n${skipped.map((name) => `  - ${name}`).join('\n')}\n`,
    );
    process.exitCode = 1;
  }
}
