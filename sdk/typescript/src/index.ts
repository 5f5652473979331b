// @aetherflow/sdk: the TypeScript SDK of the AetherFlow Workflows API.
//
//   import { createAetherFlowClient, unwrap } from '@aetherflow/sdk';
//   const aetherflow = createAetherFlowClient({ apiKey: process.env.AETHERFLOW_API_KEY });
//   const { data, error } = await aetherflow.GET('/v1/workflows', { params: { query: { limit: 10 } } });
//
// See sdk/typescript/README.md.
export { createAetherFlowClient, DEFAULT_BASE_URL, type AetherFlowClient, type AetherFlowClientOptions } from './client.ts';
export type { AccessToken, CredentialOptions, TokenProvider } from './credentials.ts';
export { AetherFlowError, isAetherFlowError, unwrap } from './errors.ts';
export { acceptsIdempotencyKey } from './idempotency.ts';
export type { Item, ListOptions, ListPath, Page } from './pagination.ts';
export { backoffDelayMs, DEFAULT_RETRY, serverDelayMs, type RetryOptions } from './retry.ts';
export { clientCredentialsTokenProvider, sessionTokenProvider, type ClientCredentialsTokenProviderOptions, type SessionTokenProviderOptions } from './token-providers.ts';
export type { Fetch, Sleep } from './transport.ts';
export type { components, ErrorCode, ErrorEnvelope, ErrorType, OAuthErrorBody, OAuthErrorCode, operations, paths, Schema } from './types.ts';
