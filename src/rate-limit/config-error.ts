// Start-up must stop on a bad policy file, and say everything that is wrong with it at once.

export class RateLimitConfigError extends Error {
  readonly issues: readonly string[];

  constructor(source: string, issues: readonly string[]) {
    super(`invalid rate-limit configuration (${source}):\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'RateLimitConfigError';
    this.issues = issues;
  }
}
