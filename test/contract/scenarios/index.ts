// Every contract scenario, one per operation: each domain file under this folder
// exports an array (e.g. `export const workflowScenarios: Scenario[]`) and is
// listed here. test/contract/operations-covered.test.ts fails while an operation
// of the contract has no scenario, or has two.
import type { Scenario } from '../scenario.ts';
import { apiKeyScenarios } from './api-keys.ts';
import { connectionScenarios } from './connections.ts';
import { eventScenarios } from './events.ts';
import { oauthClientScenarios } from './oauth-clients.ts';
import { oauthProtocolScenarios } from './oauth-protocol.ts';
import { observabilityScenarios } from './observability.ts';
import { runScenarios } from './runs.ts';
import { sessionScenarios } from './sessions.ts';
import { workflowScenarios } from './workflows.ts';

export const scenarios: Scenario[] = [
  ...workflowScenarios,
  ...runScenarios,
  ...connectionScenarios,
  ...eventScenarios,
  ...apiKeyScenarios,
  ...sessionScenarios,
  ...oauthClientScenarios,
  ...oauthProtocolScenarios,
  ...observabilityScenarios,
];
