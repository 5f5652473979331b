// Event ingestion.
import type { Scenario } from '../scenario.ts';

export const eventScenarios: Scenario[] = [];
