// Event ingestion.
import type { components } from '../../../generated/api.d.ts';
import type { Scenario, ScenarioContext } from '../scenario.ts';

/** An event of a type no workflow listens for, so it starts no run on any target. */
const eventInput = (ctx: ScenarioContext): components['schemas']['EventInput'] => ({
  type: ctx.unique('contract.order_created.'),
  data: { order_id: 'ord_10482', customer_email: 'maya.lindqvist@example.com', total_cents: 12950, currency: 'EUR' },
  occurred_at: '2026-04-20T08:14:58Z',
});

export const eventScenarios: Scenario[] = [
  {
    operationId: 'ingestEvent',
    status: 202,
    call: (ctx) =>
      ctx.api.POST('/v1/events', {
        params: { header: { 'Idempotency-Key': ctx.unique('event-') } },
        body: eventInput(ctx),
      }),
    invalid: [
      {
        name: 'type with upper-case letters',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/events', { body: { ...eventInput(ctx), type: 'Order.Created' } }),
      },
      {
        name: 'data is not an object',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/events', { body: { ...eventInput(ctx), data: ['ord_10482'] } as never }),
      },
      {
        name: 'occurred_at is not a date-time',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/events', { body: { ...eventInput(ctx), occurred_at: '20/04/2026 08:14' } }),
      },
      {
        name: 'missing data',
        status: 400,
        // @ts-expect-error deliberately missing a required field
        call: (ctx) => ctx.api.POST('/v1/events', { body: { type: 'order.created' } }),
      },
    ],
  },
  {
    // What a browser sends before a page's POST from another origin. No credential:
    // browsers send none with a preflight.
    operationId: 'preflightEvent',
    status: 204,
    call: (ctx) =>
      ctx.api.OPTIONS('/v1/events', {
        params: {
          header: {
            Origin: 'https://shop.acme-example.com',
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'authorization,content-type,idempotency-key',
          },
        },
        headers: { Authorization: null },
      }),
    invalid: [
      {
        name: 'not a preflight (no Origin, no Access-Control-Request-Method)',
        status: 400,
        // @ts-expect-error deliberately missing the required headers
        call: (ctx) => ctx.api.OPTIONS('/v1/events', { headers: { Authorization: null } }),
      },
    ],
  },
];
