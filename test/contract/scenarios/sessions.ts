// Sessions: login, refresh, logout, verify.
import type { Scenario } from '../scenario.ts';

export const sessionScenarios: Scenario[] = [];
