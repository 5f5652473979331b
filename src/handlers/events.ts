import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { ok, tenantOf } from './envelope.ts';
import type { Services } from './services.ts';

// The event, the runs it started and their audit entries commit in one transaction; the runner hears of the runs only then.
export function eventHandlers({
  events,
  audit,
  transaction,
}: Services): Pick<Handlers, 'ingestEvent' | 'preflightEvent'> {
  return {
    // The CORS headers of the answer are the pipeline's (src/http/cors.ts), read off the contract.
    preflightEvent() {
      return Promise.resolve({ status: 204, body: undefined });
    },
    async ingestEvent({ body, context }) {
      const receipt = await transaction(async (tx) => {
        const accepted = await events.ingest(tenantOf(principalOf(context)), body, tx);
        await audit.recordIn(
          context,
          {
            action: 'event.ingested',
            outcome: 'success',
            resource: { type: 'event', id: accepted.id },
            metadata: { type: accepted.type, triggered_runs: accepted.triggered_runs.length },
          },
          tx,
        );
        // Each started run is a mutation of its own (at most 100 per event).
        for (const runId of accepted.triggered_runs) {
          await audit.recordIn(
            context,
            {
              action: 'run.started',
              outcome: 'success',
              resource: { type: 'run', id: runId },
              metadata: { trigger: 'event', event_id: accepted.id },
            },
            tx,
          );
        }
        return accepted;
      });
      return { status: 202, body: ok(receipt) };
    },
  };
}
