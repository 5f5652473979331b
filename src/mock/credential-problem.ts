// What is wrong with the credential headers of a request to a secured operation,
// as the server says it (src/auth/authenticate.ts): the mock cannot check a key,
// but it can tell "no credential" from "an empty X-API-Key", "not Bearer" and
// "two credentials", which Prism answers alike (or not at all).
import type { ErrorCode, ValidationIssue } from '../errors.ts';

export interface CredentialProblem {
  code: ErrorCode;
  message: string;
  details?: ValidationIssue[];
}

export function credentialProblem(headers: { authorization?: string | undefined; 'x-api-key'?: string | undefined }): CredentialProblem | null {
  const authorization = headers.authorization;
  const apiKey = headers['x-api-key'];
  if (authorization !== undefined && apiKey !== undefined) {
    return {
      code: 'validation_failed',
      message: 'Send one credential: either Authorization or X-API-Key, not both.',
      details: [{ location: 'header.authorization', message: 'must not be sent together with X-API-Key' }],
    };
  }
  if (apiKey !== undefined) {
    return apiKey.trim() === '' ? { code: 'authentication_required', message: 'The X-API-Key header is empty: send your API key in it.' } : null;
  }
  if (authorization === undefined) {
    return {
      code: 'authentication_required',
      message: 'This operation needs a credential: send an API key or an access token as "Authorization: Bearer <credential>".',
    };
  }
  if (!/^Bearer[ ]+([^\s]+)\s*$/i.test(authorization)) {
    return { code: 'authentication_required', message: 'Send the credential as "Authorization: Bearer <key or token>".' };
  }
  return null;
}
