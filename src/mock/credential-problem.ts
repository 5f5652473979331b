// What is wrong with the credential headers of a request to a secured operation: the
// server's own rule (presentedCredential in src/http/authenticate.ts), so that the
// mock, which cannot check a key, still tells "no credential" from "an empty
// X-API-Key", "not Bearer" and "two credentials" exactly as the server does.
import { presentedCredential } from '../http/authenticate.ts';
import { ApiError, type ErrorCode, type ValidationIssue } from '../errors.ts';

export interface CredentialProblem {
  code: ErrorCode;
  message: string;
  details?: ValidationIssue[];
}

const NO_CREDENTIAL =
  'This operation needs a credential: send an API key or an access token as "Authorization: Bearer <credential>".';

export function credentialProblem(headers: {
  authorization?: string | undefined;
  'x-api-key'?: string | undefined;
}): CredentialProblem | null {
  try {
    if (presentedCredential({ authorization: headers.authorization, apiKey: headers['x-api-key'] }) === null) {
      return { code: 'authentication_required', message: NO_CREDENTIAL };
    }
    return null;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
  }
}
