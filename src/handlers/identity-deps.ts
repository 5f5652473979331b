// What the identity handlers need: the identity services, the audit log, the
// brute-force guard that counts failed credentials per client address, and the units
// of work in which a change commits with its audit entry.
import type { AuditLog } from '../audit/audit-log.ts';
import type { Transaction } from '../db/transaction.ts';
import type { Clock } from '../domain/time.ts';
import type { Identity } from '../identity/identity.ts';
import type { BruteForceGuard } from '../rate-limit/index.ts';

export interface IdentityHandlerDeps {
  identity: Identity;
  audit: AuditLog;
  guard: BruteForceGuard;
  transaction: Transaction;
  clock: Clock;
}
