import { ApiError } from '../errors.ts';
import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, tenantOf } from './envelope.ts';
import type { Services } from './services.ts';

export function auditLogHandlers({ audit }: Services): Pick<Handlers, 'listAuditLogs'> {
  return {
    async listAuditLogs({ query, context }) {
      const { limit, cursor, ...filters } = query;
      if (filters.since && filters.until && Date.parse(filters.since) >= Date.parse(filters.until)) {
        throw new ApiError('validation_failed', 'since must be before until.', {
          details: [{ location: 'query.since', message: 'must be before until' }],
        });
      }
      const page = await audit.list(tenantOf(principalOf(context)), filters, limit ?? DEFAULT_LIMIT, cursor);
      return { status: 200, body: listOf(page) };
    },
  };
}
