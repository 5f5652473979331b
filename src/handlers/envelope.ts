// The `/v1` success envelope: `{success: true, data}`, lists with `next_cursor`.
import type { Principal } from '../auth/principal.ts';
import type { Page } from '../domain/pagination.ts';
import type { Tenant } from '../tenant.ts';

export function ok<T>(data: T): { success: true; data: T } {
  return { success: true, data };
}

export function listOf<T>(page: Page<T>): { success: true; data: T[]; next_cursor: string | null } {
  return { success: true, data: page.items, next_cursor: page.nextCursor };
}

/** The tenant a principal acts in. */
export function tenantOf(principal: Principal): Tenant {
  return { projectId: principal.projectId, environment: principal.environment };
}

export const DEFAULT_LIMIT = 20;
