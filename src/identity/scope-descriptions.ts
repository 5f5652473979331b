// What each scope allows, in plain words, for the consent page: read from the
// contract's OAuth2 security scheme, which is where scopes are described once.
export type ScopeDescriptions = (scope: string) => string;

export function scopeDescriptions(document: Record<string, unknown>): ScopeDescriptions {
  const components = document.components as
    { securitySchemes?: Record<string, { flows?: Record<string, { scopes?: Record<string, string> }> }> } | undefined;
  const flows = components?.securitySchemes?.OAuth2?.flows ?? {};
  const described: Record<string, string> = {};
  for (const flow of Object.values(flows)) Object.assign(described, flow.scopes ?? {});
  return (scope) => (described[scope] ?? scope).replace(/`/g, '').replace(/\.$/, '');
}
