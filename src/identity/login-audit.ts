// One way to record a login attempt, whichever page or endpoint it came through.
// The entry names the user when the email exists (so the account's owners see
// attempts on it) and never holds the password.
import type { AuditEvent, AuditLog, AuditOrigin } from '../audit/audit-log.ts';
import type { Tx } from '../db/transaction.ts';
import type { LoginAttempt } from './password-login.ts';

export type LoginChannel = 'api' | 'consent_page';

/** A refused login (or one refused after the password): its entry is written on its own. */
export async function recordLogin(
  audit: AuditLog,
  context: AuditOrigin,
  attempt: LoginAttempt,
  channel: LoginChannel,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await audit.record(context, loginEvent(attempt, channel, extra));
}

/** A successful login: its entry commits in `tx` with the session (or browser session) it starts. */
export async function recordLoginIn(
  audit: AuditLog,
  context: AuditOrigin,
  attempt: LoginAttempt,
  channel: LoginChannel,
  extra: Record<string, unknown>,
  tx: Tx,
): Promise<void> {
  await audit.recordIn(context, loginEvent(attempt, channel, extra), tx);
}

function loginEvent(attempt: LoginAttempt, channel: LoginChannel, extra: Record<string, unknown>): AuditEvent {
  const user = attempt.user;
  // Only a successful login acts as the user; a failed one is someone claiming to be them (the resource).
  const actor =
    user && attempt.outcome === 'succeeded'
      ? { type: 'user' as const, id: user.id, keyId: null, userId: user.id, clientId: null }
      : { type: 'anonymous' as const, id: null, keyId: null, userId: null, clientId: null };
  const reason =
    attempt.outcome === 'blocked'
      ? 'too_many_attempts'
      : attempt.outcome === 'failed'
        ? 'invalid_credentials'
        : undefined;
  return {
    action: attempt.outcome === 'succeeded' ? 'auth.login_succeeded' : 'auth.login_failed',
    outcome: attempt.outcome === 'succeeded' ? 'success' : attempt.outcome === 'blocked' ? 'denied' : 'failure',
    resource: user ? { type: 'user', id: user.id } : null,
    actor,
    tenant: { accountId: user?.account_id ?? null, projectId: user?.default_project_id ?? null, environment: null },
    metadata: { channel, ...(user ? {} : { email_registered: false }), ...(reason ? { reason } : {}), ...extra },
  };
}
