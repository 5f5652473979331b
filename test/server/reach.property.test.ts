// The reach rule as a property: whatever credential mints or takes over another (a key
// creating a key, a key or session registering an OAuth app that then gets a token, a
// key rotating a key), the credential that results can never do what its parent could
// not. Parents are random: every key type's scopes, both environments, allowlists,
// expiry, a user's session, an OAuth app's token. Verdicts come from using both
// credentials over HTTP: each probe is an operation needing one scope, sent with a body
// that fails validation, so that an authorized call answers 400/404 and changes nothing
// (identity comes before content), and a refused one 401/403.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { offContract, useTestServer } from '../support/api.ts';
import { untypedRequest } from '../support/fixtures.ts';
import { BEHIND_PROXY, fromIp, HOUR, manualClock } from './auth-helpers.ts';

const FINE_SCOPES = [
  'workflows:read',
  'workflows:write',
  'workflows:execute',
  'runs:read',
  'connections:read',
  'connections:write',
  'events:write',
  'keys:read',
  'keys:write',
  'apps:read',
  'apps:write',
  'audit:read',
  'usage:read',
] as const;
type FineScope = (typeof FINE_SCOPES)[number];

/** One call per scope; a body or parameter that fails validation makes an authorized call change nothing. */
const PROBES: Record<FineScope, { method: string; path: string; body?: unknown }> = {
  'workflows:read': { method: 'GET', path: '/v1/workflows/wf_000000000000000000000000' },
  'workflows:write': { method: 'POST', path: '/v1/workflows', body: {} },
  'workflows:execute': { method: 'POST', path: '/v1/runs/run_000000000000000000000000/cancel' },
  'runs:read': { method: 'GET', path: '/v1/runs/run_000000000000000000000000' },
  'connections:read': { method: 'GET', path: '/v1/connections/conn_000000000000000000000000' },
  'connections:write': { method: 'POST', path: '/v1/connections', body: {} },
  'events:write': { method: 'POST', path: '/v1/events', body: {} },
  'keys:read': { method: 'GET', path: '/v1/auth/api-keys/key_000000000000000000000000' },
  'keys:write': { method: 'POST', path: '/v1/auth/api-keys', body: {} },
  'apps:read': { method: 'GET', path: '/v1/oauth/clients/cli_000000000000000000000000' },
  'apps:write': { method: 'POST', path: '/v1/oauth/clients', body: {} },
  'audit:read': { method: 'GET', path: '/v1/audit-logs?limit=0' },
  'usage:read': { method: 'GET', path: '/v1/usage' },
};

const NETWORKS = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '192.0.2.0/24', '0.0.0.0/0'];
/** Addresses the probes come from: inside and outside the networks above. */
const ADDRESSES = ['10.1.2.3', '10.9.9.9', '192.0.2.7', '203.0.113.5'];
const time = manualClock(Date.parse('2026-12-07T09:00:00.000Z'));

const api = useTestServer({ clock: time.clock, env: BEHIND_PROXY });

interface Held {
  credential: string;
  /** An address the credential may be used from (for minting). */
  home: string;
}

/** Which scopes `credential` can exercise from `ip` now, by trying each. */
async function abilities(credential: string, ip: string): Promise<Set<FineScope>> {
  const can = new Set<FineScope>();
  for (const scope of FINE_SCOPES) {
    const probe = PROBES[scope];
    const response = await untypedRequest(api.server, probe.method, probe.path, {
      key: credential,
      headers: fromIp(ip),
      ...(probe.body !== undefined ? { body: probe.body } : {}),
    });
    expect(response.status, `${scope} probe answered ${response.status}: ${response.text}`).not.toBeGreaterThanOrEqual(
      500,
    );
    if (response.status !== 401 && response.status !== 403 && response.status !== 429) can.add(scope);
  }
  return can;
}

async function environmentOf(credential: string, ip: string): Promise<string | null> {
  const response = await api.fromIp(ip, credential).GET('/v1/auth/verify');
  return response.status === 200 ? response.data!.data.environment : null;
}

const scopeSet = fc.subarray([...FINE_SCOPES], { minLength: 1 });
const allowlist = fc.oneof(fc.constant<string[]>([]), fc.subarray(NETWORKS, { minLength: 1, maxLength: 2 }));
const lifetime = fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }); // hours, or no expiry

const parentArbitrary = fc.oneof(
  fc.record({
    kind: fc.constant('key' as const),
    type: fc.constantFrom('secret', 'secret', 'secret', 'restricted', 'client'),
    scopes: scopeSet,
    environment: fc.constantFrom('test', 'live'),
    allowed: allowlist,
    hours: lifetime,
  }),
  fc.record({ kind: fc.constant('session' as const) }),
  fc.record({ kind: fc.constant('oauth' as const), scopes: scopeSet, allowed: allowlist, hours: lifetime }),
);
const mintArbitrary = fc.oneof(
  fc.record({
    kind: fc.constant('create-key' as const),
    type: fc.constantFrom('secret', 'restricted', 'client'),
    scopes: scopeSet,
    environment: fc.option(fc.constantFrom('test', 'live'), { nil: undefined }),
    allowed: fc.option(allowlist, { nil: undefined }),
    hours: fc.option(lifetime, { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('register-app' as const), scopes: scopeSet, tokenFrom: fc.constantFrom(...ADDRESSES) }),
  fc.record({
    kind: fc.constant('rotate-key' as const),
    scopes: scopeSet,
    environment: fc.constantFrom('test', 'live'),
    allowed: allowlist,
    hours: lifetime,
  }),
);

/** Keys of the parent's making are created by the account owner's session, which can create any. */
async function ownerSession(): Promise<string> {
  const response = await api
    .fromIp('10.1.2.3', null)
    .POST('/v1/auth/login', { body: { email: api.server.owner.email, password: api.server.owner.password } });
  if (response.status !== 200) throw new Error(`login: ${response.status} ${response.text}`);
  return response.data!.data.token;
}

function restrictFor(type: string, scopes: FineScope[]): FineScope[] {
  if (type === 'restricted')
    return scopes.filter((s) => s.endsWith(':read')).length
      ? scopes.filter((s) => s.endsWith(':read'))
      : ['workflows:read'];
  if (type === 'client') return ['events:write'];
  return scopes;
}

async function ownerKey(
  owner: string,
  input: { type: string; scopes: FineScope[]; environment: string; allowed: string[]; hours: number | null },
): Promise<{ id: string; secret: string }> {
  const body = {
    name: 'parent',
    type: input.type,
    scopes: restrictFor(input.type, input.scopes),
    environment: input.environment,
    allowed_ips: input.allowed,
    ...(input.hours !== null ? { expires_at: new Date(time.now() + input.hours * HOUR).toISOString() } : {}),
  };
  // Generated: the type, environment and scopes are whatever the property draws.
  const response = await api.fromIp('10.1.2.3', owner).POST('/v1/auth/api-keys', { body: offContract(body) });
  if (response.status !== 201) throw new Error(`owner key: ${response.status} ${response.text}`);
  return response.data!.data;
}

/** An address inside an allowlist (or anywhere when there is none). */
function homeOf(allowed: string[]): string {
  const inside = ADDRESSES.find(
    (address) => allowed.length === 0 || allowed.some((network) => contains(network, address)),
  );
  return inside ?? ADDRESSES[0]!;
}

function contains(network: string, address: string): boolean {
  const [base, bits] = network.split('/') as [string, string];
  const toInt = (ip: string) => ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(address) / size) === Math.floor(toInt(base) / size);
}

async function tokenFor(app: { client_id: string; client_secret: string }, ip: string): Promise<string | null> {
  const response = await fetch(`${api.server.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...fromIp(ip) },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.client_id,
      client_secret: app.client_secret,
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  expect(response.status).toBeLessThan(500);
  return response.status === 200 ? body.access_token! : null;
}

async function registerApp(
  credential: string,
  ip: string,
  scopes: FineScope[],
): Promise<{ client_id: string; client_secret: string } | null> {
  const response = await api.fromIp(ip, credential).POST('/v1/oauth/clients', {
    body: {
      name: 'child app',
      client_type: 'confidential',
      redirect_uris: ['https://child.example.com/cb'],
      scopes,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  });
  expect(response.status, response.text).toBeLessThan(500);
  return response.status === 201 ? (response.data!.data as { client_id: string; client_secret: string }) : null;
}

type ParentSpec =
  | { kind: 'key'; type: string; scopes: FineScope[]; environment: string; allowed: string[]; hours: number | null }
  | { kind: 'session' }
  | { kind: 'oauth'; scopes: FineScope[]; allowed: string[]; hours: number | null };

/** `needed`: the scope the minting operation requires, given to parents that may hold it, so that most runs get past the scope check and test the reach rule itself. */
async function parentOf(owner: string, given: ParentSpec, needed: FineScope): Promise<Held> {
  const spec =
    given.kind === 'session' || (given.kind === 'key' && given.type !== 'secret')
      ? given
      : { ...given, scopes: [...new Set<FineScope>([...given.scopes, needed])] };
  if (spec.kind === 'session') return { credential: owner, home: '10.1.2.3' };
  if (spec.kind === 'key') {
    const key = await ownerKey(owner, spec);
    return { credential: key.secret, home: homeOf(spec.allowed) };
  }
  // An OAuth app registered by a fenced key, and the token it gets from inside the fence.
  const registrar = await ownerKey(owner, {
    type: 'secret',
    scopes: [...new Set<FineScope>([...spec.scopes, 'apps:write'])],
    environment: 'test',
    allowed: spec.allowed,
    hours: spec.hours,
  });
  const home = homeOf(spec.allowed);
  const app = await registerApp(registrar.secret, home, spec.scopes);
  if (!app) throw new Error('set-up: the registrar could not register its app');
  const token = await tokenFor(app, home);
  if (!token) throw new Error('set-up: the app got no token from inside its fence');
  return { credential: token, home };
}

describe('reach: nothing minted or taken over reaches further than its parent', () => {
  it('holds for random parents and random minting operations, judged by using the credentials', async () => {
    const runs = Number(process.env.REACH_RUNS ?? 30);
    // How many runs minted something, and how many were refused: both must happen, or the
    // property was only ever checked on one side.
    const outcomes = { minted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(parentArbitrary, mintArbitrary, async (parentSpec, mint) => {
        const owner = await ownerSession();
        const parent = await parentOf(owner, parentSpec, mint.kind === 'register-app' ? 'apps:write' : 'keys:write');

        let child: string | null = null;
        if (mint.kind === 'create-key') {
          const body: Record<string, unknown> = {
            name: 'child',
            type: mint.type,
            scopes: restrictFor(mint.type, mint.scopes),
          };
          if (mint.environment !== undefined) body.environment = mint.environment;
          if (mint.allowed !== undefined) body.allowed_ips = mint.allowed;
          if (mint.hours !== undefined)
            body.expires_at = mint.hours === null ? null : new Date(time.now() + mint.hours * HOUR).toISOString();
          const response = await api
            .fromIp(parent.home, parent.credential)
            .POST('/v1/auth/api-keys', { body: offContract(body) });
          expect(response.status, response.text).toBeLessThan(500);
          if (response.status === 201) child = response.data!.data.secret;
        } else if (mint.kind === 'register-app') {
          const app = await registerApp(parent.credential, parent.home, mint.scopes);
          if (app) child = await tokenFor(app, mint.tokenFrom);
        } else {
          const target = await ownerKey(owner, {
            type: 'secret',
            scopes: mint.scopes,
            environment: mint.environment,
            allowed: mint.allowed,
            hours: mint.hours,
          });
          const response = await api.fromIp(parent.home, parent.credential).POST('/v1/auth/api-keys/{key_id}/rotate', {
            params: { path: { key_id: target.id } },
            body: { grace_period_seconds: 0 },
          });
          expect(response.status, response.text).toBeLessThan(500);
          if (response.status === 200) child = response.data!.data.secret;
        }
        if (child === null) {
          outcomes.refused += 1;
          return;
        }
        outcomes.minted += 1;

        // Now, from every address: the child can do nothing the parent cannot.
        for (const ip of ADDRESSES) {
          const mine = await abilities(child, ip);
          if (mine.size === 0) continue;
          const theirs = await abilities(parent.credential, ip);
          expect(
            [...mine].filter((scope) => !theirs.has(scope)),
            `child from ${ip}`,
          ).toEqual([]);
          const environment = await environmentOf(child, ip);
          const parentEnvironment = await environmentOf(parent.credential, ip);
          // A user's session manages both environments; any other parent only its own.
          if (parentSpec.kind !== 'session') expect(environment).toBe(parentEnvironment);
        }
        // And later: once a parent with an end has passed it, so has everything it made. (A
        // session's or an unfenced app's token expires within the hour, but the authority
        // behind it does not: what they make may outlive the token.)
        time.advance(5 * HOUR);
        if (parentSpec.kind !== 'session' && parentSpec.hours !== null) {
          expect([...(await abilities(parent.credential, parent.home))]).toEqual([]);
          for (const ip of ADDRESSES)
            expect([...(await abilities(child, ip))], `child from ${ip} after its parent's end`).toEqual([]);
        }
      }),
      { numRuns: runs, endOnFailure: true },
    );
    expect(outcomes.minted).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  }, 240_000);
});
