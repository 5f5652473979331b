// The OAuth 2.0 protocol endpoints: authorize (page and form), token, revoke, introspect.
import type { Scenario } from '../scenario.ts';

export const oauthProtocolScenarios: Scenario[] = [];
