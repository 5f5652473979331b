// The shape of a contract scenario. Scenarios are written once, against the typed
// openapi-fetch client, and run against any target: the Prism mock here, the real
// server (directly and through `prism proxy --errors`) in later suites.
import type { Client } from 'openapi-fetch';
import type { operations, paths } from '../../generated/api.d.ts';

export type OperationId = keyof operations;
export type ApiClient = Client<paths>;

/** What a target must provide for scenarios that need pre-existing state. */
export interface TargetFixtures {
  /** A user who can log in with POST /v1/auth/login on this target. */
  user: { email: string; password: string };
}

export interface ContractTarget {
  /** For test names: `prism`, `server`, `prism-proxy`... */
  name: string;
  baseUrl: string;
  /** True for the Prism mock: any credential passes and bodies are the contract's examples. */
  isMock: boolean;
  /** A credential holding every scope, as sent in `Authorization: Bearer`. */
  credential: string;
  fixtures: TargetFixtures;
  /** Authenticated with `credential`. */
  client: ApiClient;
  /** Sends no credential at all. */
  anonymous: ApiClient;
}

export interface ScenarioContext {
  target: ContractTarget;
  /** The client for the call under test: authenticated, anonymous, or with a `Prefer` header. */
  api: ApiClient;
  /** Always authenticated with every scope: for setting up what the call needs. */
  admin: ApiClient;
  /** A value unique within the run, for names and idempotency keys. */
  unique(prefix: string): string;
}

/** What openapi-fetch returns; `data` for 2XX, `error` otherwise. */
export interface CallResult {
  response: Response;
  data?: unknown;
  error?: unknown;
}

export interface InvalidCall {
  /** What is wrong with the request, for the test name. */
  name: string;
  call(ctx: ScenarioContext): Promise<CallResult>;
  /** The documented 4xx this must get; any documented 4xx when omitted. */
  status?: number;
  /**
   * Why the Prism mock cannot answer this call as the contract says (for example, Prism
   * drops undeclared query parameters before validating). The call then runs only
   * against real servers.
   */
  notOnMock?: string;
}

export interface Scenario {
  operationId: OperationId;
  /** The documented status the valid call must get. */
  status: number;
  /** A valid call of the operation, made with `ctx.api`. */
  call(ctx: ScenarioContext): Promise<CallResult>;
  /** Calls with bad parameters or body, made with `ctx.api`; each must get a documented 4xx in the error envelope. */
  invalid: InvalidCall[];
}
