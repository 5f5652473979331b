// Unit tests of the `{{ path }}` templates of workflow steps, as the WorkflowStep
// schema describes them: paths into input, vars and event; missing paths render
// empty; non-strings as JSON text; a single pass (inserted text is never
// rendered again); anything that is not a complete template is left alone.
import { describe, expect, it } from 'vitest';
import { renderString, renderValue, type TemplateScope } from '../../src/runner/templates.ts';

const scope: TemplateScope = {
  input: {
    region: 'EMEA',
    count: 3,
    ratio: 0.5,
    flag: true,
    nothing: null,
    items: [{ sku: 'SKU-1' }, { sku: 'SKU-2' }],
    nested: { a: [1, 'x'] },
    'with-dash': 'dashed',
  },
  vars: { order_id: 'ord_10482', secret: 'sk-very-secret', zero: 0, empty: '' },
  event: {
    id: 'evt_rgjWgnSE06SY3Z6xSh3wMjjr',
    type: 'order.created',
    occurred_at: '2026-04-20T08:14:58Z',
    data: { customer: { email: 'maya@example.com' } },
  },
};

describe('renderString', () => {
  it('replaces input, vars and event paths', () => {
    expect(renderString('{{input.region}}/{{vars.order_id}}/{{event.data.customer.email}}/{{event.type}}', scope)).toBe(
      'EMEA/ord_10482/maya@example.com/order.created',
    );
  });

  it('allows spaces inside the braces', () => {
    expect(renderString('[{{ vars.order_id }}] [{{   input.region}}]', scope)).toBe('[ord_10482] [EMEA]');
  });

  it('picks array items with a number segment', () => {
    expect(renderString('{{input.items.1.sku}} {{input.items.0.sku}}', scope)).toBe('SKU-2 SKU-1');
  });

  it('accepts - and _ in segments', () => {
    expect(renderString('{{input.with-dash}} {{vars.order_id}}', scope)).toBe('dashed ord_10482');
  });

  it('renders numbers, booleans and null as JSON text, objects and arrays as compact JSON', () => {
    expect(renderString('{{input.count}}|{{input.ratio}}|{{input.flag}}|{{input.nothing}}|{{vars.zero}}', scope)).toBe(
      '3|0.5|true|null|0',
    );
    expect(renderString('{{input.nested}}', scope)).toBe('{"a":[1,"x"]}');
    expect(renderString('{{input.items}}', scope)).toBe('[{"sku":"SKU-1"},{"sku":"SKU-2"}]');
  });

  it('renders paths that lead nowhere as the empty string', () => {
    expect(renderString('<{{vars.unset}}>', scope)).toBe('<>');
    expect(renderString('<{{input.region.deeper}}>', scope)).toBe('<>');
    expect(renderString('<{{input.items.7.sku}}>', scope)).toBe('<>');
    expect(renderString('<{{event.data.missing.field}}>', scope)).toBe('<>');
    expect(renderString('<{{unknown.root}}>', scope)).toBe('<>');
    expect(renderString('<{{input}}>', { ...scope, input: undefined })).toBe('<>');
  });

  it('renders every event path empty in a run not started by an event', () => {
    expect(renderString('<{{event.data.customer.email}}|{{event.id}}>', { ...scope, event: undefined })).toBe('<|>');
  });

  it('renders an empty string value as empty, not as a missing marker', () => {
    expect(renderString('<{{vars.empty}}>', scope)).toBe('<>');
  });

  it('does not reach inherited properties', () => {
    expect(
      renderString('<{{input.__proto__}}|{{input.constructor}}|{{vars.toString}}|{{input.items.length}}>', scope),
    ).toBe('<|||>');
  });

  it('is a single pass: inserted text is never rendered again', () => {
    const hostile: TemplateScope = { ...scope, input: { text: '{{vars.secret}}', brace: '{{', path: 'vars.secret}}' } };
    expect(renderString('{{input.text}}', hostile)).toBe('{{vars.secret}}');
    // Two insertions that together spell a template stay text as well.
    expect(renderString('{{input.brace}}{{input.path}}', hostile)).toBe('{{vars.secret}}');
  });

  it('leaves text that is not a complete template as it is', () => {
    for (const text of [
      '{{vars.order_id',
      'vars.order_id}}',
      '{vars.order_id}',
      '{{ }}',
      '{{vars..order_id}}',
      '{{vars.order id}}',
      '{{.vars}}',
      'plain text',
    ]) {
      expect(renderString(text, scope)).toBe(text);
    }
  });

  it('does not HTML-escape', () => {
    expect(renderString('{{input.html}}', { ...scope, input: { html: '<b>&"</b>' } })).toBe('<b>&"</b>');
  });
});

describe('renderValue', () => {
  it('renders every string at any depth and keeps other values as they are', () => {
    const rendered = renderValue(
      {
        id: '{{vars.order_id}}',
        list: ['{{input.region}}', 7, { deep: 'x-{{input.count}}' }],
        n: 5,
        b: false,
        z: null,
      },
      scope,
    );
    expect(rendered).toEqual({ id: 'ord_10482', list: ['EMEA', 7, { deep: 'x-3' }], n: 5, b: false, z: null });
  });

  it('keeps a whole-string template a string (numbers become their JSON text)', () => {
    expect(renderValue({ count: '{{input.count}}' }, scope)).toEqual({ count: '3' });
  });

  it('treats a "__proto__" key as data, not as the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": "{{input.region}}"}}') as unknown;
    const rendered = renderValue(value, scope) as Record<string, unknown>;
    expect(Object.hasOwn(rendered, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(rendered)).toBe(Object.prototype);
    expect((rendered as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(rendered)).toBe('{"__proto__":{"polluted":"EMEA"}}');
  });

  it('does not change its argument', () => {
    const value = { a: '{{input.region}}', b: ['{{vars.order_id}}'] };
    renderValue(value, scope);
    expect(value).toEqual({ a: '{{input.region}}', b: ['{{vars.order_id}}'] });
  });
});
