import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { ok, scopeOf } from './envelope.ts';
import type { Services } from './services.ts';

export function eventHandlers({ events, audit }: Services): Pick<Handlers, 'ingestEvent'> {
  return {
    async ingestEvent({ body, context }) {
      const receipt = await events.ingest(scopeOf(principalOf(context)), body);
      await audit.record(context, { action: 'event.ingested', outcome: 'success', resource: { type: 'event', id: receipt.id }, metadata: { type: receipt.type, triggered_runs: receipt.triggered_runs.length } });
      // Each started run is a mutation of its own (at most 100 per event).
      for (const runId of receipt.triggered_runs) {
        await audit.record(context, { action: 'run.started', outcome: 'success', resource: { type: 'run', id: runId }, metadata: { trigger: 'event', event_id: receipt.id } });
      }
      return { status: 202, body: ok(receipt) };
    },
  };
}
