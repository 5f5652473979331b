// What the identity handlers need: the identity services, the audit log, and the
// brute-force guard that counts failed credentials per client address.
import type { AuditLog } from '../audit/audit-log.ts';
import type { Identity } from '../identity/identity.ts';
import type { BruteForceGuard } from '../rate-limit/index.ts';

export interface IdentityHandlerDeps {
  identity: Identity;
  audit: AuditLog;
  guard: BruteForceGuard;
}
