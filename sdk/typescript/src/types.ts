// The contract's types, as the SDK's users see them. They come from
// generated/api.d.ts (openapi-typescript over the bundled contract), never
// written by hand: `npm run generate` updates them with the contract.
import type { components, operations, paths } from '../../../generated/api.js';

export type { components, operations, paths };

/** A schema of the contract by name: `Schema<'Workflow'>`, `Schema<'RunStatus'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

/** The `/v1` error envelope: `{ success: false, error: { type, code, message, status, request_id, doc_url } }`. */
export type ErrorEnvelope = Schema<'Error'>;
/** Every documented error code (the contract's catalogue); new codes may be added. */
export type ErrorCode = Schema<'ErrorCode'>;
export type ErrorType = Schema<'ErrorType'>;
/** The RFC 6749 error body of the OAuth protocol endpoints (`/oauth/token`, `/oauth/revoke`, `/oauth/introspect`). */
export type OAuthErrorBody = Schema<'OAuthError'>;
export type OAuthErrorCode = OAuthErrorBody['error'];
