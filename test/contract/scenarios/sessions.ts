// Sessions: login, refresh, logout, verify.
import type { Middleware } from 'openapi-fetch';
import type { Scenario } from '../scenario.ts';
import { logIn } from './setup.ts';

/**
 * Logout accepts only a session token (BearerAuth, "only a session token from
 * login or refresh"), never the API key the suite's clients send. This sends the
 * call with `token` in place of the caller's credential, and keeps everything
 * else of `ctx.api`: its `Prefer` header on the mock, and the absence of any
 * credential for the anonymous client, so "without a credential -> 401" still
 * tests a request without a credential.
 */
function asSession(token: string): Middleware {
  return {
    onRequest({ request }) {
      if (request.headers.has('authorization')) request.headers.set('Authorization', `Bearer ${token}`);
      return undefined;
    },
  };
}

export const sessionScenarios: Scenario[] = [
  {
    operationId: 'login',
    status: 200,
    call: (ctx) => ctx.api.POST('/v1/auth/login', { body: { ...ctx.target.fixtures.user } }),
    invalid: [
      {
        name: 'no password',
        status: 400,
        // @ts-expect-error deliberately missing a required field
        call: (ctx) => ctx.api.POST('/v1/auth/login', { body: { email: ctx.target.fixtures.user.email } }),
      },
      {
        name: 'email is not an email address',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/login', { body: { email: 'owner', password: ctx.target.fixtures.user.password } }),
      },
      {
        name: 'malformed project_id',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/login', {
            body: { ...ctx.target.fixtures.user, project_id: 'acct_r2BfGQU3bJJlCzedk8C61BQJ' },
          }),
      },
      {
        name: 'unknown field',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/login', { body: { ...ctx.target.fixtures.user, remember_me: true } as never }),
      },
    ],
  },
  {
    operationId: 'refreshSession',
    status: 200,
    call: async (ctx) => {
      const session = await logIn(ctx);
      return ctx.api.POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } });
    },
    invalid: [
      {
        name: 'no refresh_token',
        status: 400,
        // @ts-expect-error deliberately missing a required field
        call: (ctx) => ctx.api.POST('/v1/auth/refresh', { body: {} }),
      },
      {
        name: 'empty refresh_token',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/auth/refresh', { body: { refresh_token: '' } }),
      },
      {
        name: 'refresh_token over 512 characters',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/auth/refresh', { body: { refresh_token: 'r'.repeat(513) } }),
      },
      {
        name: 'refresh_token is not a string',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/auth/refresh', { body: { refresh_token: 12345 } as never }),
      },
    ],
  },
  {
    operationId: 'logout',
    status: 200,
    // Logs in first and logs that session out, also revoking its refresh token.
    call: async (ctx) => {
      const session = await logIn(ctx);
      return ctx.api.POST('/v1/auth/logout', {
        body: { refresh_token: session.refresh_token },
        middleware: [asSession(session.token)],
      });
    },
    // With a session token too: an API key would be refused (401) before the body is read.
    invalid: [
      {
        name: 'unknown field',
        status: 400,
        call: async (ctx) => {
          const session = await logIn(ctx);
          return ctx.api.POST('/v1/auth/logout', {
            body: { all_sessions: true } as never,
            middleware: [asSession(session.token)],
          });
        },
      },
      {
        name: 'empty refresh_token',
        status: 400,
        call: async (ctx) => {
          const session = await logIn(ctx);
          return ctx.api.POST('/v1/auth/logout', {
            body: { refresh_token: '' },
            middleware: [asSession(session.token)],
          });
        },
      },
      {
        name: 'refresh_token is not a string',
        status: 400,
        call: async (ctx) => {
          const session = await logIn(ctx);
          return ctx.api.POST('/v1/auth/logout', {
            body: { refresh_token: [session.refresh_token] } as never,
            middleware: [asSession(session.token)],
          });
        },
      },
    ],
  },
  {
    operationId: 'verifyCredentials',
    status: 200,
    call: (ctx) => ctx.api.GET('/v1/auth/verify'),
    // No parameters and no body: request validation is strict, so an undeclared query
    // parameter is the one thing a request can get wrong besides its credential.
    invalid: [
      {
        name: 'unknown query parameter',
        status: 400,
        notOnMock: 'Prism drops undeclared query parameters before validating',
        call: (ctx) => ctx.api.GET('/v1/auth/verify', { params: { query: { include: 'secret' } } } as never),
      },
    ],
  },
];
