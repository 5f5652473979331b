// Every problem of a request body that the contract validator refused, each with
// its location, instead of the validator's first one.
//
// express-openapi-validator stops at the first problem. Ajv's `allErrors` would
// collect them all, but its cost grows with the body, not with the problems: a
// 64 KiB body of 21 000 empty steps took 20 s and 57 MB to refuse (measured), so
// it is not for bodies anyone may send. Instead, once the validator has refused a
// body, this walks the body along its schema and checks each part with Ajv in
// first-error mode, descending only into the parts that fail: an object's
// properties, an array's items, and the branch of a `oneOf` that the value's
// `type` (or other constant-valued property) names. A budget of checks and of
// problems bounds the walk whatever the body. The verdict stays the validator's:
// when the walk finds nothing it agrees with, the validator's own errors are kept.
// ajv/dist/2020 is the entry point Ajv documents for its JSON Schema 2020-12 class (ajv has no exports map).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';

/** A problem in the validator's form: `path` is `/body/steps/0/type`. */
export interface BodyProblem {
  path: string;
  message: string;
}

type Schema = Record<string, unknown>;

/** At most this many problems are listed (the envelope's `details` holds 100). */
export const MAX_PROBLEMS = 50;
/** At most this many parts of a body are checked. */
const MAX_CHECKS = 2000;

// Keywords that the walk looks into itself; the rest of a schema (type, lengths,
// counts, enum, if/then/else...) is checked on the part as a whole.
const WALKED = [
  'properties',
  'required',
  'additionalProperties',
  'unevaluatedProperties',
  'items',
  'prefixItems',
  'oneOf',
  'anyOf',
  'allOf',
  '$ref',
];

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export type BodyExplainer = (schema: unknown, body: unknown) => BodyProblem[];

/** An explainer for the request bodies of `document` (the bundled contract). */
export function bodyExplainer(document: Record<string, unknown>): BodyExplainer {
  const components = (
    isSchema(document.components) && isSchema(document.components.schemas) ? document.components.schemas : {}
  ) as Record<string, Schema>;
  // As express-openapi-validator configures its own Ajv for an OpenAPI 3.1 document.
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  (addFormatsPlugin as unknown as (ajv: Ajv2020, options: object) => void)(ajv, { mode: 'fast' });
  ajv.addFormat('media-range', true);
  for (const [name, schema] of Object.entries(components)) ajv.addSchema(schema, `#/components/schemas/${name}`);

  const compiled = new WeakMap<object, ValidateFunction>();
  const shallow = new WeakMap<object, ValidateFunction | null>();
  const check = (schema: Schema): ValidateFunction => {
    let validate = compiled.get(schema);
    if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
    return validate;
  };
  /** The schema's own constraints on a part, without what the walk looks into; null when there are none. */
  const ownConstraints = (schema: Schema): ValidateFunction | null => {
    if (!shallow.has(schema)) {
      const rest = Object.fromEntries(Object.entries(schema).filter(([keyword]) => !WALKED.includes(keyword)));
      shallow.set(schema, Object.keys(rest).some((keyword) => !isAnnotation(keyword)) ? ajv.compile(rest) : null);
    }
    return shallow.get(schema) ?? null;
  };
  const resolve = (schema: Schema): Schema => {
    let current = schema;
    for (
      let hops = 0;
      hops < 20 && typeof current.$ref === 'string' && current.$ref.startsWith('#/components/schemas/');
      hops++
    ) {
      const target = components[current.$ref.slice('#/components/schemas/'.length)];
      if (!target) break;
      current = target;
    }
    return current;
  };

  return (schema, body) => {
    if (!isSchema(schema)) return [];
    const problems: BodyProblem[] = [];
    let checks = 0;
    const seen = new Set<string>();
    const add = (path: (string | number)[], message: string) => {
      const at = ['/body', ...path.map(String)].join('/');
      if (problems.length >= MAX_PROBLEMS || seen.has(`${at} ${message}`)) return;
      seen.add(`${at} ${message}`);
      problems.push({ path: at, message });
    };
    const addFirst = (validate: ValidateFunction, path: (string | number)[]) => {
      const errors = validate.errors ?? [];
      // A failed oneOf/anyOf comes last, after what each branch said; it is the one that speaks for the value.
      const last = errors.at(-1);
      const error = last && (last.keyword === 'oneOf' || last.keyword === 'anyOf') ? last : errors[0];
      if (!error) return;
      const missing =
        error.keyword === 'required' ? (error.params as { missingProperty?: string }).missingProperty : undefined;
      if (missing) add([...path, ...pointer(error.instancePath), missing], 'is required');
      else add([...path, ...pointer(error.instancePath)], describe(error));
    };

    const full = () => checks >= MAX_CHECKS || problems.length >= MAX_PROBLEMS;
    const walk = (given: Schema, value: unknown, path: (string | number)[]): void => {
      if (full()) return;
      checks++;
      if (passes(check(given), value)) return;
      const schema = resolve(given);
      const before = problems.length;
      const own = ownConstraints(schema);
      if (own && !passes(own, value)) addFirst(own, path);

      const items = Array.isArray(value) ? value : null;
      const itemSchema = isSchema(schema.items) ? schema.items : null;
      const members = [schema, ...(Array.isArray(schema.allOf) ? schema.allOf.filter(isSchema).map(resolve) : [])];
      const properties = Object.assign(
        {},
        ...members.map((member) => (isSchema(member.properties) ? member.properties : {})),
      ) as Record<string, Schema>;
      if (
        isPlainObject(value) &&
        members.some((member) => isSchema(member.properties) || Array.isArray(member.required))
      ) {
        for (const member of members) {
          for (const name of Array.isArray(member.required) ? member.required : []) {
            if (typeof name === 'string' && !Object.hasOwn(value, name)) add([...path, name], 'is required');
          }
        }
        const closed = members.some(
          (member) => member.additionalProperties === false || member.unevaluatedProperties === false,
        );
        const extra = members.map((member) => member.additionalProperties).find(isSchema);
        for (const name in value) {
          if (full()) break;
          if (!Object.hasOwn(value, name)) continue;
          const item = value[name];
          const declared = properties[name];
          if (isSchema(declared)) walk(declared, item, [...path, name]);
          else if (extra) walk(extra, item, [...path, name]);
          else if (closed)
            add([...path, name], `is not a field here (the fields are ${Object.keys(properties).join(', ')})`);
        }
        for (const member of members.slice(1)) {
          const rest = ownConstraints(member);
          if (rest && !passes(rest, value)) addFirst(rest, path);
        }
      } else if (items && itemSchema) {
        for (let index = 0; index < items.length && !full(); index++) walk(itemSchema, items[index], [...path, index]);
      } else if (isPlainObject(value) && Array.isArray(schema.oneOf)) {
        const tagged = discriminated(schema.oneOf.filter(isSchema).map(resolve));
        if (tagged) {
          const tag = value[tagged.property];
          const branch = typeof tag === 'string' ? tagged.branches.get(tag) : undefined;
          const allowed = [...tagged.branches.keys()].join(', ');
          if (!Object.hasOwn(value, tagged.property)) add([...path, tagged.property], `is required: one of ${allowed}`);
          else if (!branch) add([...path, tagged.property], `must be one of ${allowed}`);
          else walk(branch, value, path);
        }
      }
      if (problems.length === before) addFirst(check(given), path);
    };

    walk(schema, body, []);
    return problems;
  };
}

/** The JSON request body schema of `method path` in `document`, or null. */
export function jsonBodySchema(document: Record<string, unknown>, path: string, method: string): Schema | null {
  const paths = isSchema(document.paths) ? document.paths : {};
  const item = paths[path];
  const operation = isSchema(item) ? item[method] : undefined;
  const body = isSchema(operation) ? operation.requestBody : undefined;
  const content = isSchema(body) && isSchema(body.content) ? body.content : {};
  const json = content['application/json'];
  return isSchema(json) && isSchema(json.schema) ? json.schema : null;
}

/** The validator's error of a refused request, `errors` listing every problem of its body when there is one to list. */
export function withEveryBodyProblem(
  error: unknown,
  explain: BodyExplainer,
  schema: Schema | null,
  body: unknown,
): unknown {
  const refused = error as { status?: unknown; errors?: unknown };
  if (!schema || refused?.status !== 400 || !Array.isArray(refused.errors)) return error;
  const errors = refused.errors as Array<{ path?: unknown }>;
  const aboutBody = (item: { path?: unknown }) => typeof item.path === 'string' && /^[/.]body\b/.test(item.path);
  if (!errors.some(aboutBody)) return error;
  let problems: BodyProblem[];
  try {
    problems = explain(schema, body);
  } catch {
    return error; // the validator's own account is still true
  }
  if (problems.length > 0) refused.errors = [...errors.filter((item) => !aboutBody(item)), ...problems];
  return error;
}

/** Ajv's validate functions are type guards (`data is unknown`); a failed one would narrow `data` to never. */
function passes(validate: ValidateFunction, data: unknown): boolean {
  return validate(data);
}

/** The property whose constant value tells a oneOf's object branches apart (`type`), with each branch by value. */
function discriminated(branches: Schema[]): { property: string; branches: Map<string, Schema> } | null {
  const first = branches[0];
  if (!first || !isSchema(first.properties)) return null;
  for (const property of Object.keys(first.properties)) {
    const byValue = new Map<string, Schema>();
    for (const branch of branches) {
      const value = constantOf(isSchema(branch.properties) ? branch.properties[property] : undefined);
      if (value === null || byValue.has(value)) break;
      byValue.set(value, branch);
    }
    if (byValue.size === branches.length) return { property, branches: byValue };
  }
  return null;
}

function constantOf(schema: unknown): string | null {
  if (!isSchema(schema)) return null;
  if (typeof schema.const === 'string') return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length === 1 && typeof schema.enum[0] === 'string')
    return schema.enum[0];
  return null;
}

function isAnnotation(keyword: string): boolean {
  return (
    [
      'title',
      'description',
      'example',
      'examples',
      'default',
      'deprecated',
      'readOnly',
      'writeOnly',
      '$comment',
      '$schema',
      '$id',
    ].includes(keyword) || keyword.startsWith('x-')
  );
}

function pointer(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Ajv's message, naming the allowed values where Ajv only says there are some. */
function describe(error: ErrorObject): string {
  const params = error.params as { allowedValues?: unknown[]; allowedValue?: unknown };
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues))
    return `must be one of ${params.allowedValues.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join(', ')}`;
  if (error.keyword === 'const')
    return `must be ${typeof params.allowedValue === 'string' ? params.allowedValue : JSON.stringify(params.allowedValue)}`;
  return error.message ?? 'is invalid';
}
