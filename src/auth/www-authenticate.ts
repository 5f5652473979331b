// The one place WWW-Authenticate challenges are written (RFC 6750 section 3).
const REALM = 'aetherflow';

function quoted(value: string): string {
  // RFC 7230 quoted-string: escape backslash and quote; drop what a header cannot carry.
  // eslint-disable-next-line no-control-regex -- control characters are what this replaces
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[\r\n\x00-\x1f\x7f]/g, ' ')}"`;
}

/** No usable credential was sent: the challenge names the scheme, without an error (RFC 6750 section 3.1). */
export function bearerChallenge(): string {
  return `Bearer realm=${quoted(REALM)}`;
}

export function invalidTokenChallenge(description: string): string {
  return `Bearer realm=${quoted(REALM)}, error="invalid_token", error_description=${quoted(description)}`;
}

export function insufficientScopeChallenge(scopes: string[]): string {
  return `Bearer realm=${quoted(REALM)}, error="insufficient_scope", scope=${quoted(scopes.join(' '))}`;
}

export function basicChallenge(): string {
  return `Basic realm=${quoted(`${REALM}-oauth`)}, charset="UTF-8"`;
}
