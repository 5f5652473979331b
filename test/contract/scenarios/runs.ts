// Runs: list, read, cancel, retry.
import type { Scenario } from '../scenario.ts';

export const runScenarios: Scenario[] = [];
