// The contract suite against the real server (response validation on), and again
// through `prism proxy --errors`, which turns any answer that breaks the contract,
// headers included, into a 500 with `sl-violations`.
import { startPrism } from '../support/prism.ts';
import { startTestServer } from '../support/server.ts';
import { createApiClient } from './clients.ts';
import { scenarios } from './scenarios/index.ts';
import { defineContractSuite, type StartedTarget } from './suite.ts';

async function serverTarget(throughPrism: boolean): Promise<StartedTarget> {
  const server = await startTestServer();
  const prism = throughPrism
    ? await startPrism({ spec: 'generated/openapi.json', mode: 'proxy', upstream: server.baseUrl, errors: true })
    : null;
  const baseUrl = prism?.baseUrl ?? server.baseUrl;
  return {
    name: throughPrism ? 'prism-proxy' : 'server',
    baseUrl,
    isMock: false,
    credential: server.secretKey,
    fixtures: { user: server.owner },
    client: createApiClient({ baseUrl, credential: server.secretKey }),
    anonymous: createApiClient({ baseUrl }),
    async close() {
      await prism?.stop();
      await server.close();
    },
  };
}

defineContractSuite({ name: 'real server', mock: false, scenarios, start: () => serverTarget(false) });
defineContractSuite({
  name: 'real server behind prism proxy --errors',
  mock: false,
  forwardsUnauthenticated: false,
  scenarios,
  start: () => serverTarget(true),
});
