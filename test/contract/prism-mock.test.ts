// The contract suite against the mock of the bundled contract, as `npm run mock`
// serves it (Prism behind our front, src/mock/): proves the scenarios and the
// contract agree (every example valid and reachable, auth enforced, bad input
// refused) before any server exists. The mock accepts any credential of the
// right scheme, so the one below is only well-formed.
import { contractDocumentPath } from '../support/contract-document.ts';
import { startTestMock } from '../support/mock.ts';
import { createApiClient } from './clients.ts';
import { scenarios } from './scenarios/index.ts';
import { defineContractSuite } from './suite.ts';

const document = contractDocumentPath();

defineContractSuite({
  name: 'mock (npm run mock)',
  mock: true,
  document,
  scenarios,
  async start() {
    const mock = await startTestMock();
    const credential = 'sk_test_00AHj1XS1AlTPn4uRPYtr5vGj3ePqf1n2DEhwX';
    return {
      name: 'mock',
      baseUrl: mock.url,
      isMock: true,
      credential,
      fixtures: { user: { email: 'owner@example.com', password: 'correct horse battery staple' } },
      client: createApiClient({ baseUrl: mock.url, credential }),
      anonymous: createApiClient({ baseUrl: mock.url }),
      close: () => mock.close(),
    };
  },
});
