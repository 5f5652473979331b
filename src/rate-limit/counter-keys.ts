// Counter keys hold a policy name and ids or addresses, never a secret (a key's id, not
// the key). Each part is URI-encoded so an id containing the separator cannot make two
// different subjects share a counter.

import { createHash } from 'node:crypto';
import { clientIpKey } from './client-ip.ts';

const PREFIX = 'rl';

function counterKey(policyName: string, ...parts: string[]): string {
  for (const part of parts) {
    if (part === '')
      throw new TypeError(`rate-limit counter "${policyName}": an empty id would pool unrelated clients`);
  }
  return [PREFIX, policyName, ...parts.map(encodeURIComponent)].join(':');
}

export function principalCounterKey(policyName: string, principalId: string): string {
  return counterKey(policyName, 'principal', principalId);
}

export function accountCounterKey(policyName: string, accountId: string): string {
  return counterKey(policyName, 'account', accountId);
}

export function clientIpCounterKey(policyName: string, clientIp: string): string {
  return counterKey(policyName, 'ip', clientIpKey(clientIp));
}

/**
 * `Alice@Example.com ` and `alice@example.com` are one account to a login form, so they
 * share a counter. The name is hashed so that keys have a bounded length and no e-mail
 * address sits in the counter store (a convenience, not secrecy: names can be guessed).
 */
export function usernameCounterKey(policyName: string, username: string, clientIp: string): string {
  const normalised = username.normalize('NFKC').trim().toLowerCase();
  const digest = createHash('sha256').update(normalised).digest('base64url').slice(0, 22);
  return counterKey(policyName, 'user', digest, 'ip', clientIpKey(clientIp));
}
