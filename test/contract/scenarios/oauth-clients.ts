// OAuth apps: list, register, read, delete.
import type { Scenario } from '../scenario.ts';

export const oauthClientScenarios: Scenario[] = [];
