// The tenant boundary: every resource query is scoped by project and environment.
// Anything that identifies a caller's data takes a DataScope, never a bare id.
export interface DataScope {
  projectId: string;
  environment: 'live' | 'test';
}
