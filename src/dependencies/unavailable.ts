// Which failures of PostgreSQL and Redis mean "the dependency is down or too slow" (a
// 503, and the dependency marked down) rather than "this call was wrong" (a bug or a
// conflict, answered as such). Read from the drivers' documented error codes and the
// messages pg and ioredis give a lost connection.

/** Socket errors: the host refuses, resets, or cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'ENOTCONN',
]);

/**
 * PostgreSQL SQLSTATEs of an unavailable server: class 08 (connection exception),
 * 57P01-57P03 (terminated by an administrator or a crash, cannot connect now), 53300
 * (too many connections), 57014 (a statement cancelled by statement_timeout: too slow).
 */
const POSTGRES_STATES = /^(08...|57P0[123]|53300|57014)$/;

/** What pg says when a connection ends or cannot be had in time. */
const POSTGRES_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Query read timeout)/;

export function postgresUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_STATES.test(code))) return true;
  return POSTGRES_MESSAGES.test(error.message);
}

/**
 * What ioredis says when it has no connection (and queues nothing: enableOfflineQueue is
 * off), when a command got no answer in time, and what a Redis that is starting, failing
 * over or stuck in a script answers.
 */
const REDIS_MESSAGES =
  /^(Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries per request limit|LOADING|MASTERDOWN|READONLY|BUSY |TRYAGAIN|CLUSTERDOWN)/;

export function redisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return REDIS_MESSAGES.test(error.message);
}
