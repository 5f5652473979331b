// The contract suite against the Prism mock of the bundled contract: proves the
// scenarios and the contract agree (every example valid and reachable, auth
// enforced, bad input refused) before any server exists. Prism accepts any
// credential of the right scheme, so the one below is only well-formed.
import { contractDocumentPath } from '../support/contract-document.ts';
import { startPrism } from '../support/prism.ts';
import { createApiClient } from './clients.ts';
import { scenarios } from './scenarios/index.ts';
import { defineContractSuite } from './suite.ts';

const document = contractDocumentPath();

defineContractSuite({
  name: 'prism mock',
  mock: true,
  document,
  scenarios,
  async start() {
    const prism = await startPrism({ spec: document, mode: 'mock' });
    const credential = 'sk_test_00AHj1XS1AlTPn4uRPYtr5vGj3ePqf1n2DEhwX';
    return {
      name: 'prism',
      baseUrl: prism.baseUrl,
      isMock: true,
      credential,
      fixtures: { user: { email: 'owner@example.com', password: 'correct horse battery staple' } },
      client: createApiClient({ baseUrl: prism.baseUrl, credential }),
      anonymous: createApiClient({ baseUrl: prism.baseUrl }),
      close: () => prism.stop(),
    };
  },
});
