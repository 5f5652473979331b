// Structured logs (pino) with redaction of everything that can carry a secret,
// at any depth we log: authorization headers, keys, cookies, tokens, passwords.
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.client_secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.credential',
  '*.credentials',
  '*.authorization_code',
  '*.code_verifier',
  '*["x-api-key"]',
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

/**
 * The logger of the one line per request (src/http/request-log.ts), whose fields are
 * fixed, built from ids and templates only, and never carry a secret: it skips
 * redaction, which costs about four times the rest of the line (`npm run bench:micro`).
 * Everything else keeps logging through the redacting logger.
 */
export function requestLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}
