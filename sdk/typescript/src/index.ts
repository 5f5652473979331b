// @aetherflow/sdk: the TypeScript SDK of the AetherFlow Workflows API.
//
//   import { createAetherFlowClient, unwrap } from '@aetherflow/sdk';
//   const aetherflow = createAetherFlowClient({ apiKey: process.env.AETHERFLOW_API_KEY });
//   const { data, error } = await aetherflow.GET('/v1/workflows', { params: { query: { limit: 10 } } });
//
// See sdk/typescript/README.md.
export {
  createAetherFlowClient,
  DEFAULT_BASE_URL,
  type AetherFlowClient,
  type AetherFlowClientOptions,
} from './client.js';
export type { AccessToken, CredentialOptions, TokenProvider } from './credentials.js';
export { AetherFlowError, isAetherFlowError, unwrap } from './errors.js';
export { acceptsIdempotencyKey } from './idempotency.js';
export type { Item, ListOptions, ListPath, Page } from './pagination.js';
export { backoffDelayMs, DEFAULT_RETRY, serverDelayMs, type RetryOptions } from './retry.js';
export {
  clientCredentialsTokenProvider,
  sessionTokenProvider,
  type ClientCredentialsTokenProviderOptions,
  type SessionTokenProviderOptions,
} from './token-providers.js';
export type { Fetch, Sleep } from './transport.js';
export type {
  components,
  ErrorCode,
  ErrorEnvelope,
  ErrorType,
  OAuthErrorBody,
  OAuthErrorCode,
  operations,
  paths,
  Schema,
} from './types.js';
