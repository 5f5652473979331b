// The tags of cached state: what an invalidation names.
/** A key's verified state (its secrets, scopes, expiry, revocation). */
export const keyTag = (keyId: string): string => `api-key:${keyId}`;
/** An account's plan, cached with every key and session of the account. */
export const accountTag = (accountId: string): string => `account:${accountId}`;
/** A token family (a session or an OAuth grant). */
export const familyTag = (familyId: string): string => `family:${familyId}`;
/** Whether a token id or family id is on the revocation list. */
export const revokedTag = (id: string): string => `revoked:${id}`;
/** Which version of a workflow GET answers (src/domain/workflows.ts). */
export const workflowTag = (workflowId: string): string => `workflow:${workflowId}`;
/** The list pages of a tenant's workflows (src/domain/workflows.ts): any create, replace or delete in it changes them. */
export const workflowListTag = (projectId: string, environment: string): string =>
  `workflows:${projectId}:${environment}`;
