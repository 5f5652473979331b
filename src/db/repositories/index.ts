// Every repository on one database, built once by the entry points (src/compose.ts,
// src/cli/admin.ts) and handed to the services: above this folder nothing holds the
// database itself.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { AccountRepository } from './accounts.ts';
import { ApiKeyRepository } from './api-keys.ts';
import { AuditLogRepository } from './audit-log.ts';
import { AuthorizationCodeRepository } from './authorization-codes.ts';
import { BrowserSessionRepository } from './browser-sessions.ts';
import { ConnectionRepository } from './connections.ts';
import { EventRepository } from './events.ts';
import { IdempotencyRepository } from './idempotency.ts';
import { OAuthClientRepository } from './oauth-clients.ts';
import { RevokedTokenRepository } from './revoked-tokens.ts';
import { RunExecution, RunRepository } from './runs.ts';
import { SigningKeyRepository } from './signing-keys.ts';
import { TokenFamilyRepository } from './token-families.ts';
import { WorkflowRepository } from './workflows.ts';

export interface Repositories {
  accounts: AccountRepository;
  apiKeys: ApiKeyRepository;
  audit: AuditLogRepository;
  authorizationCodes: AuthorizationCodeRepository;
  browserSessions: BrowserSessionRepository;
  connections: ConnectionRepository;
  events: EventRepository;
  idempotency: IdempotencyRepository;
  oauthClients: OAuthClientRepository;
  revokedTokens: RevokedTokenRepository;
  runs: RunRepository;
  runExecution: RunExecution;
  signingKeys: SigningKeyRepository;
  tokenFamilies: TokenFamilyRepository;
  workflows: WorkflowRepository;
}

export function repositoriesOn(db: Kysely<Database>): Repositories {
  return {
    accounts: new AccountRepository(db),
    apiKeys: new ApiKeyRepository(db),
    audit: new AuditLogRepository(db),
    authorizationCodes: new AuthorizationCodeRepository(),
    browserSessions: new BrowserSessionRepository(db),
    connections: new ConnectionRepository(db),
    events: new EventRepository(),
    idempotency: new IdempotencyRepository(db),
    oauthClients: new OAuthClientRepository(db),
    revokedTokens: new RevokedTokenRepository(db),
    runs: new RunRepository(db),
    runExecution: new RunExecution(db),
    signingKeys: new SigningKeyRepository(db),
    tokenFamilies: new TokenFamilyRepository(db),
    workflows: new WorkflowRepository(db),
  };
}
