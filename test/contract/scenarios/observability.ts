// Audit logs, usage, health, and the public OAuth discovery documents (metadata, JWKS).
import type { Scenario } from '../scenario.ts';

export const observabilityScenarios: Scenario[] = [];
