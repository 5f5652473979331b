// API keys: list, create, read, revoke, rotate; and the public leaked-key report.
import type { Scenario } from '../scenario.ts';

export const apiKeyScenarios: Scenario[] = [];
