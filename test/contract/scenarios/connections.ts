// Connections: list, create, read, delete (credentials never returned).
import type { Scenario } from '../scenario.ts';

export const connectionScenarios: Scenario[] = [];
