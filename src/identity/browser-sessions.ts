// The sign-in session of the login and consent pages, in a `__Host-` cookie
// (HttpOnly, Secure, SameSite=Lax, host-only, Path=/, 30 minutes). The cookie is
// random; the server keeps only its keyed hash, and only once a user has signed
// in. Each page's CSRF token is bound to the cookie and to the time it was made:
// HMAC(cookie, time), refused when it does not match or is older than the session
// may live. Signing in issues a new cookie (no session fixation).
import { safeEqual, type KeyedHash } from '../crypto/keyed-hash.ts';
import { randomToken } from '../crypto/random.ts';
import type { BrowserSessionRepository } from '../db/repositories/browser-sessions.ts';
import type { Tx } from '../db/transaction.ts';
import { iso, type Clock } from '../domain/time.ts';
import { BROWSER_SESSION_SECONDS } from './token-lifetimes.ts';

export const SESSION_COOKIE = '__Host-aetherflow_oauth';

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

export interface BrowserSession {
  /** The cookie value in use (null: the browser sent none, or a malformed one). */
  cookie: string | null;
  /** The signed-in user, when the cookie is a live session. */
  userId: string | null;
}

export class BrowserSessions {
  constructor(
    private readonly repository: BrowserSessionRepository,
    /** Hashes cookie values for storage. */
    private readonly hash: KeyedHash,
    /** Derives CSRF tokens from cookie values (a different key). */
    private readonly csrfMac: KeyedHash,
    private readonly clock: Clock,
  ) {}

  async read(cookieHeader: string | string[] | undefined): Promise<BrowserSession> {
    const cookie = cookieValue(cookieHeader);
    if (cookie === null) return { cookie: null, userId: null };
    return { cookie, userId: await this.repository.userOf(this.hash(cookie), iso(this.clock())) };
  }

  newCookie(): string {
    return randomToken(32);
  }

  /**
   * A fresh cookie value bound to the signed-in user; the previous one (if any) is dropped.
   * In `tx`, the unit of work of the sign-in's audit entry, which commits with it.
   */
  async signIn(userId: string, previous: string | null, tx: Tx): Promise<string> {
    const now = this.clock();
    const cookie = this.newCookie();
    await this.repository.start(
      {
        id: this.hash(cookie),
        user_id: userId,
        created_at: iso(now),
        expires_at: iso(now + BROWSER_SESSION_SECONDS * 1000),
      },
      previous === null ? null : this.hash(previous),
      tx,
    );
    return cookie;
  }

  /** Signs a user out of every browser (a password reset), in `tx`. */
  async endAllOf(userId: string, tx: Tx): Promise<void> {
    await this.repository.endAllOf(userId, tx);
  }

  csrfToken(cookie: string): string {
    const issued = Math.floor(this.clock() / 1000).toString(36);
    return `${issued}.${this.csrfMac(`${cookie}.${issued}`)}`;
  }

  csrfMatches(cookie: string | null, token: string | undefined): boolean {
    if (cookie === null || token === undefined) return false;
    const [issued, mac] = token.split('.');
    if (!issued || !mac || !/^[0-9a-z]{1,10}$/.test(issued)) return false;
    const age = this.clock() / 1000 - parseInt(issued, 36);
    if (age < -60 || age > BROWSER_SESSION_SECONDS) return false;
    return safeEqual(mac, this.csrfMac(`${cookie}.${issued}`));
  }

  setCookieHeader(cookie: string): string {
    return `${SESSION_COOKIE}=${cookie}; Path=/; Max-Age=${BROWSER_SESSION_SECONDS}; HttpOnly; Secure; SameSite=Lax`;
  }
}

function cookieValue(header: string | string[] | undefined): string | null {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (!text) return null;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return COOKIE_VALUE.test(value) ? value : null;
  }
  return null;
}
