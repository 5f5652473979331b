// Checking an email and password, for POST /v1/auth/login and the consent page
// alike. The answer never tells whether the email is registered: an unknown email
// is checked against a decoy hash (same time) and fails the same way. Attempts
// are limited per (email, client IP) by counting each one up front and forgiving
// it when it succeeds, and every failure also counts against the client IP's
// failed-credentials limit.
import type { BruteForceGuard, GuardDecision } from '../rate-limit/index.ts';
import type { PasswordChecker } from './passwords.ts';
import { normaliseEmail, type User, type UserDirectory } from './user-directory.ts';

export type LoginAttempt =
  | { outcome: 'succeeded'; user: User; decision: GuardDecision }
  /** Wrong email or password; `user` is set when the email exists (for the audit log only). */
  | { outcome: 'failed'; user: User | null; decision: GuardDecision }
  /** Too many failures for this email from this address: not even tried. */
  | { outcome: 'blocked'; user: null; decision: GuardDecision };

export class PasswordLogin {
  constructor(
    private readonly users: UserDirectory,
    private readonly checker: PasswordChecker,
    private readonly guard: BruteForceGuard,
  ) {}

  async attempt(email: string, password: string, clientIp: string): Promise<LoginAttempt> {
    const subject = { username: normaliseEmail(email), clientIp };
    const attempt = await this.guard.attempt('login', subject);
    if (!attempt.decision.allowed) return { outcome: 'blocked', user: null, decision: attempt.decision };
    const user = await this.users.byEmail(email);
    const valid = await this.checker.check(password, user?.password_hash ?? null);
    if (!valid || !user) {
      await this.guard.recordFailure('failed_credentials', { clientIp });
      return { outcome: 'failed', user, decision: attempt.decision };
    }
    await attempt.forgive();
    return { outcome: 'succeeded', user, decision: await this.guard.check('login', subject) };
  }
}
