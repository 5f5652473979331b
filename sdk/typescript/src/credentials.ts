// The credential a client sends: an API key, a fixed access token, or access
// tokens from a provider, renewed before they expire and when the server says
// they have. However many requests need a new token at once, the provider is
// called once: they all wait for the same refresh.

/** An access token and, when known, when it expires (a Date, Unix milliseconds, or RFC 3339). */
export interface AccessToken {
  token: string;
  expiresAt?: Date | number | string | null;
}

/**
 * Returns a valid access token: called for the first request, again shortly before
 * the token's `expiresAt`, and when the server answers `401 token_expired`,
 * `token_revoked` or `invalid_token`. See `sessionTokenProvider` and
 * `clientCredentialsTokenProvider` for ready-made ones.
 */
export type TokenProvider = () => Promise<AccessToken | string>;

export interface CredentialOptions {
  /** An `sk_`/`rk_`/`ck_` key (or a legacy `wfk_` key, which is sent as `X-API-Key`). */
  apiKey?: string;
  /** Where the API key goes; `authorization` (Bearer) by default, `x-api-key` always for `wfk_` keys. */
  apiKeyHeader?: 'authorization' | 'x-api-key';
  /** A JWT or OAuth access token, used as it is until it stops working. */
  accessToken?: string;
  tokenProvider?: TokenProvider;
  /** A provider's token is renewed this long before its `expiresAt`. Default 60 s. */
  refreshSkewMs?: number;
}

/** What the transport needs from a credential. */
export interface CredentialSource {
  /** Sets this attempt's credential header unless the request carries one; returns what was sent, or null. */
  apply(headers: Headers): Promise<string | null>;
  /** The server refused `sent`; true when a fresh credential is ready and the request is worth one more try. */
  rejected(sent: string, response: Response): Promise<boolean>;
}

/** The 401 codes after which a new token may help. */
const RENEWABLE = new Set(['token_expired', 'token_revoked', 'invalid_token']);

export function credentialSource(options: CredentialOptions, now: () => number): CredentialSource {
  const given = [options.apiKey, options.accessToken, options.tokenProvider].filter((value) => value !== undefined);
  if (given.length > 1) throw new TypeError('Give one of apiKey, accessToken and tokenProvider, not several');

  const setIfAbsent = (headers: Headers, name: string, value: string): string | null => {
    if (headers.has('Authorization') || headers.has('X-API-Key')) return null;
    headers.set(name, value);
    return value;
  };

  if (options.apiKey !== undefined) {
    const key = options.apiKey;
    const header = key.startsWith('wfk_') || options.apiKeyHeader === 'x-api-key' ? 'X-API-Key' : 'Authorization';
    const value = header === 'Authorization' ? `Bearer ${key}` : key;
    return {
      apply: (headers) => Promise.resolve(setIfAbsent(headers, header, value)),
      rejected: () => Promise.resolve(false),
    };
  }
  if (options.accessToken !== undefined) {
    const value = `Bearer ${options.accessToken}`;
    return {
      apply: (headers) => Promise.resolve(setIfAbsent(headers, 'Authorization', value)),
      rejected: () => Promise.resolve(false),
    };
  }
  if (options.tokenProvider !== undefined) {
    const tokens = new TokenCache(options.tokenProvider, now, options.refreshSkewMs ?? 60_000);
    return {
      async apply(headers) {
        if (headers.has('Authorization') || headers.has('X-API-Key')) return null;
        return setIfAbsent(headers, 'Authorization', `Bearer ${await tokens.get()}`);
      },
      async rejected(sent, response) {
        if (!RENEWABLE.has(await errorCode(response))) return false;
        await tokens.renewUnless(sent.slice('Bearer '.length));
        return true;
      },
    };
  }
  return { apply: () => Promise.resolve(null), rejected: () => Promise.resolve(false) };
}

interface CachedToken {
  token: string;
  expiresAt: number | null;
}

class TokenCache {
  private current: CachedToken | null = null;
  private refreshing: Promise<CachedToken> | null = null;

  constructor(
    private readonly provider: TokenProvider,
    private readonly now: () => number,
    private readonly skewMs: number,
  ) {}

  async get(): Promise<string> {
    const current = this.current;
    if (current && (current.expiresAt === null || this.now() < current.expiresAt - this.skewMs)) return current.token;
    return (await this.refresh()).token;
  }

  /** A new token, unless the cached one is already another than `rejected` (someone renewed it meanwhile). */
  async renewUnless(rejected: string): Promise<void> {
    if (this.refreshing) {
      await this.refreshing;
      return;
    }
    if (this.current && this.current.token !== rejected) return;
    await this.refresh();
  }

  private refresh(): Promise<CachedToken> {
    this.refreshing ??= (async () => {
      try {
        const fresh = normalize(await this.provider());
        this.current = fresh;
        return fresh;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}

function normalize(token: AccessToken | string): CachedToken {
  if (typeof token === 'string') return { token, expiresAt: null };
  const { expiresAt } = token;
  const ms =
    expiresAt === undefined || expiresAt === null
      ? null
      : expiresAt instanceof Date
        ? expiresAt.getTime()
        : typeof expiresAt === 'number'
          ? expiresAt
          : Date.parse(expiresAt);
  if (typeof token.token !== 'string' || token.token === '')
    throw new TypeError('The token provider returned no token');
  return { token: token.token, expiresAt: ms !== null && Number.isFinite(ms) ? ms : null };
}

async function errorCode(response: Response): Promise<string> {
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? body.error.code : '';
  } catch {
    return '';
  }
}
