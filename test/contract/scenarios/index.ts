// Every contract scenario, one per operation: each domain file under this folder
// exports an array (e.g. `export const workflowScenarios: Scenario[]`) and is
// listed here. test/contract/operations-covered.test.ts fails while an operation
// of the contract has no scenario, or has two.
import type { Scenario } from '../scenario.ts';

export const scenarios: Scenario[] = [];
