// A credential's reach: the project and environment it acts on, its scopes, the
// networks it may be used from and the moment it stops. One rule holds for every
// credential, and this module is the only place that decides it:
//
//   no credential may create, rotate, revoke or delete a credential that reaches
//   further than itself, and whatever it creates stays within its own reach.
//
// API keys (create, rotate, revoke), OAuth apps (register, delete) and the tokens an
// app is issued (token endpoint, use) all go through here, so that no path can mint
// or take over a credential broader than the one asking. The one exception is the
// public leaked-key report, which revokes whatever it is given: that is its purpose.
import type { Environment } from './api-key-format.ts';
import type { Fence, Principal } from './principal.ts';

export { UNFENCED, type Fence } from './principal.ts';
import { expandScopes } from './scopes.ts';
import { cidrContains, cidrWithin, parseCidr, type Cidr } from '../net/cidr.ts';
import { iso } from '../domain/time.ts';
import { ApiError } from '../errors.ts';

export interface Reach {
  projectId: string;
  /** The environments whose credentials it may manage (a credential has one). */
  environments: readonly Environment[];
  /** As granted; coarse `read` / `write` count as every `*:read` / `*:write`. */
  scopes: readonly string[];
  /** The networks it may be used from; empty: any address. */
  allowedIps: readonly Cidr[];
  /** When it stops (ms since epoch); null: never. */
  notAfter: number | null;
}

/**
 * The reach of the credential a request authenticated with. A user's session acts on
 * its project's live data, but the user may manage the credentials of both of the
 * project's environments; its authority has no end of its own (the access token is
 * short-lived, the user is not), so `notAfter` is the principal's fence, not the token's
 * `exp`. The same holds for an OAuth grant: its tokens are renewed, its app's fence is not.
 */
export function reachOf(principal: Principal): Reach {
  return {
    projectId: principal.projectId,
    environments: principal.method === 'jwt' ? ['live', 'test'] : [principal.environment],
    scopes: principal.scopes,
    allowedIps: principal.fence.allowedIps,
    notAfter: principal.fence.notAfter,
  };
}

/** The ways `target` reaches further than `holder`, in words; empty when it is within. */
export function excess(target: Reach, holder: Reach): string[] {
  const found: string[] = [];
  if (target.projectId !== holder.projectId) found.push('another project');
  const environments = target.environments.filter((environment) => !holder.environments.includes(environment));
  if (environments.length > 0) found.push(`the ${environments.join(' and ')} environment`);
  const held = expandScopes(holder.scopes);
  const beyond = [...expandScopes(target.scopes)].filter((scope) => !held.has(scope));
  if (beyond.length > 0) found.push(`scope${beyond.length > 1 ? 's' : ''} ${beyond.join(', ')}`);
  if (holder.allowedIps.length > 0) {
    if (target.allowedIps.length === 0)
      found.push(`use from any address (the caller is limited to ${texts(holder.allowedIps)})`);
    else {
      const outside = target.allowedIps.filter((inner) => !holder.allowedIps.some((outer) => cidrWithin(inner, outer)));
      if (outside.length > 0)
        found.push(`use from ${texts(outside)}, outside the caller's allowlist (${texts(holder.allowedIps)})`);
    }
  }
  if (holder.notAfter !== null) {
    if (target.notAfter === null) found.push(`no expiry (the caller expires at ${iso(holder.notAfter)})`);
    else if (target.notAfter > holder.notAfter) found.push(`an expiry after the caller's (${iso(holder.notAfter)})`);
  }
  return found;
}

/**
 * Refuses, with 403 `credential_out_of_reach`, to let `holder` rotate, revoke or delete a
 * credential that reaches further than itself: a key holding only `keys:write` must not
 * receive the secret of the account's full-access key, nor lock its holder out.
 */
export function mayActOn(holder: Principal, target: Reach, action: 'rotate' | 'revoke' | 'delete', what: string): void {
  const found = excess(target, reachOf(holder));
  if (found.length === 0) return;
  throw new ApiError(
    'credential_out_of_reach',
    `This credential cannot ${action} ${what}: it reaches further than the caller (${found.join('; ')}).`,
  );
}

export interface AskedReach {
  /** Omitted: the holder's own environment. */
  environment?: Environment | undefined;
  scopes: readonly string[];
  /** Omitted or empty: the holder's allowlist. */
  allowedIps?: readonly Cidr[] | undefined;
  /** Omitted (or null): the holder's own end. */
  notAfter?: number | null | undefined;
}

/**
 * The reach of a credential `holder` creates, from what was asked: the holder's
 * environment, allowlist and expiry fill in what was not asked for (an expiring or
 * address-bound key cannot mint a permanent, unrestricted successor by leaving them
 * out), and anything asked beyond the holder's reach is refused with 403
 * (`environment_mismatch` for another environment, `scope_escalation` otherwise).
 */
export function reachForNew(holder: Principal, asked: AskedReach): Reach & { environment: Environment } {
  const own = reachOf(holder);
  const environment = asked.environment ?? holder.environment;
  if (!own.environments.includes(environment)) {
    throw new ApiError(
      'environment_mismatch',
      `This credential can only create credentials of its own environment (${holder.environment}).`,
    );
  }
  const target = {
    projectId: own.projectId,
    environment,
    environments: [environment],
    scopes: asked.scopes,
    allowedIps: asked.allowedIps && asked.allowedIps.length > 0 ? asked.allowedIps : own.allowedIps,
    notAfter: asked.notAfter ?? own.notAfter,
  };
  const found = excess(target, own);
  if (found.length > 0)
    throw new ApiError(
      'scope_escalation',
      `A credential cannot reach further than the one that creates it: ${found.join('; ')}.`,
    );
  return target;
}

/** Why a credential fenced by `fence` may not be used from `ip` at `now`, or null. */
export function outsideFence(fence: Fence, ip: string, now: number): 'ip_not_allowed' | 'expired' | null {
  if (fence.notAfter !== null && now >= fence.notAfter) return 'expired';
  if (fence.allowedIps.length > 0 && !fence.allowedIps.some((cidr) => cidrContains(cidr, ip))) return 'ip_not_allowed';
  return null;
}

/** The fence stored with a credential (its allowlist as JSON text, its end as ISO text or null). */
export function fenceFromStored(allowedIps: string, notAfter: string | null): Fence {
  return {
    allowedIps: (JSON.parse(allowedIps) as string[])
      .map((text) => parseCidr(text))
      .filter((cidr): cidr is Cidr => cidr !== null),
    notAfter: notAfter === null ? null : Date.parse(notAfter),
  };
}

function texts(cidrs: readonly Cidr[]): string {
  return cidrs.map((cidr) => cidr.text).join(', ');
}
