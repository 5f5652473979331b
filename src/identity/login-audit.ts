// One way to record a login attempt, whichever page or endpoint it came through.
// The entry names the user when the email exists (so the account's owners see
// attempts on it) and never holds the password.
import type { Kysely } from 'kysely';
import type { AuditLog, AuditOrigin } from '../audit/audit-log.ts';
import type { Database } from '../db/schema.ts';
import type { LoginAttempt } from './password-login.ts';

export type LoginChannel = 'api' | 'consent_page';

/** `executor`: the transaction of the session a successful login starts, which commits with its entry. */
export async function recordLogin(
  audit: AuditLog,
  context: AuditOrigin,
  attempt: LoginAttempt,
  channel: LoginChannel,
  extra: Record<string, unknown> = {},
  executor?: Kysely<Database>,
): Promise<void> {
  const user = attempt.user;
  // Only a successful login acts as the user; a failed one is someone claiming to be them (the resource).
  const actor =
    user && attempt.outcome === 'succeeded'
      ? { type: 'user' as const, id: user.id, keyId: null, userId: user.id, clientId: null }
      : { type: 'anonymous' as const, id: null, keyId: null, userId: null, clientId: null };
  const reason = attempt.outcome === 'blocked' ? 'too_many_attempts' : attempt.outcome === 'failed' ? 'invalid_credentials' : undefined;
  await audit.record(context, {
    action: attempt.outcome === 'succeeded' ? 'auth.login_succeeded' : 'auth.login_failed',
    outcome: attempt.outcome === 'succeeded' ? 'success' : attempt.outcome === 'blocked' ? 'denied' : 'failure',
    resource: user ? { type: 'user', id: user.id } : null,
    actor,
    tenant: { accountId: user?.account_id ?? null, projectId: user?.default_project_id ?? null, environment: null },
    metadata: { channel, ...(user ? {} : { email_registered: false }), ...(reason ? { reason } : {}), ...extra },
  }, executor);
}
