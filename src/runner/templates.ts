// The `{{ path }}` templates of workflow steps, rendered in a single pass: text
// inserted from input, vars or event data is never rendered again, so untrusted
// event data cannot inject templates of its own. See the WorkflowStep schema.
const TEMPLATE = /\{\{\s*([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

export interface TemplateScope {
  input: unknown;
  vars: unknown;
  event: unknown;
}

function lookup(scope: TemplateScope, path: string): unknown {
  const [root, ...rest] = path.split('.');
  if (root !== 'input' && root !== 'vars' && root !== 'event') return undefined;
  let value: unknown = scope[root];
  for (const segment of rest) {
    if (value === null || typeof value !== 'object') return undefined;
    // In an array only an index picks something (the schema: "a number picks an array
    // item"); `length` is an own property of every JS array but no part of the JSON value.
    if (Array.isArray(value) && !/^(0|[1-9][0-9]*)$/.test(segment)) return undefined;
    // Own properties only: `{{input.__proto__}}` or `constructor` must lead nowhere.
    if (!Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

export function renderString(template: string, scope: TemplateScope): string {
  return template.replace(TEMPLATE, (_match, path: string) => {
    const value = lookup(scope, path);
    if (value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** Renders every string at any depth of a JSON value. */
export function renderValue(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, scope));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      Object.defineProperty(out, key, {
        value: renderValue(item, scope),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}
