// The bad-input corpus, generated from the contract: for every operation of
// generated/openapi.json, requests that break it in every way the contract lets
// us name (wrong types, missing and extra fields, boundaries, enums, patterns,
// lengths), plus the attacks that do not depend on the schema (malformed JSON,
// wrong content types, oversized bodies and headers, control and unicode
// characters, injection strings, prototype-pollution payloads, duplicated and
// conflicting credentials). Each case says whether the server must refuse it
// (`reject`: nothing may change but the audit log) or may accept it (`any`:
// e.g. an SQL injection string is a legitimate workflow name); either way it
// must answer without a 5xx, in the endpoint's error form.
import type { ContractDocument, ContractOperation } from '../support/contract-document.ts';
import type { RawRequest } from '../support/raw-http.ts';

export type Expectation = 'reject' | 'any';

export interface FuzzCase {
  /** `family: what` */
  name: string;
  operationId: string | null;
  request: RawRequest;
  expect: Expectation;
  /** Header names (lower case) that must not appear in the answer: injected ones. */
  forbiddenHeaders?: string[];
}

/** Real resources of the server under test, so a mutation is the only thing wrong. */
export interface FuzzTarget {
  ids: { workflow_id: string; run_id: string; connection_id: string; key_id: string; client_id: string };
  /** sk_ key with every scope. */
  secretKey: string;
  /** rk_ key (read scopes only). */
  restrictedKey: string;
  /** A session JWT (for BearerAuth-only operations such as logout). */
  sessionToken: string;
  authorize: { clientId: string; redirectUri: string; codeChallenge: string };
}

type Schema = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE workflows; --",
  '" OR ""="',
  '1; SELECT pg_sleep(5)--',
  "' UNION SELECT secret_hash FROM api_key_secrets --",
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/dev/zero',
  '${jndi:ldap://example.invalid/a}',
  '{{constructor.constructor("return process")()}}',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '$(touch /tmp/pwned)',
  '`id`',
  '{"$gt": ""}',
  '__proto__',
  'constructor',
  'x\r\nSet-Cookie: injected=1',
  'x\nX-Injected: 1',
];

export const UNICODE = [
  '\u0000',
  'a\u0000b',
  '\u0007\u0008\u001b[31m',
  '\u007f',
  '\u202eevil\u202c',
  '\ufeffbom',
  'Zalgo: Z̷̧̛̛a̸̢l̴g̶o̵',
  '𝕳𝖊𝖑𝖑𝖔 🧨',
  'ｗｆ＿ｆｕｌｌｗｉｄｔｈ',
  '\ud800',
  '\udfff\ud800',
  '\u2028\u2029',
  'e\u0301',
];

/** One of each kind, for the CI-sized corpus of `npm test`. */
const SAMPLE = [
  INJECTIONS[1]!,
  INJECTIONS[5]!,
  INJECTIONS[10]!,
  INJECTIONS[16]!,
  INJECTIONS[18]!,
  UNICODE[1]!,
  UNICODE[7]!,
  UNICODE[9]!,
];

const LONG = (n: number) => 'a'.repeat(n);

/** encodeURIComponent for any string, lone surrogates included (sent as their UTF-8 replacement). */
export function encode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function resolve(document: ContractDocument, value: unknown): Schema {
  let schema = document.resolve<Schema>(value).value;
  // `allOf: [$ref]` beside a description or default: the referenced schema is the type.
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && schema.type === undefined) {
    schema = { ...document.resolve<Schema>(schema.allOf[0]).value, ...schema, allOf: undefined };
  }
  return schema;
}

function typesOf(schema: Schema): string[] {
  if (schema.const !== undefined) return [jsonType(schema.const)];
  if (Array.isArray(schema.enum)) return [...new Set(schema.enum.map(jsonType))];
  return ([] as string[]).concat((schema.type as string | string[] | undefined) ?? []);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

/** JSON texts of values whose JSON type the schema does not allow. */
function wrongTypes(schema: Schema): string[] {
  const types = typesOf(schema);
  if (types.length === 0) return [];
  const allowed = (type: string) => types.includes(type) || (type === 'integer' && types.includes('number'));
  const candidates: Array<[string, string]> = [
    ['string', '"12"'],
    ['integer', '12'],
    ['number', '1.5'],
    ['boolean', 'true'],
    ['null', 'null'],
    ['array', '["a"]'],
    ['object', '{"a":1}'],
  ];
  return candidates.filter(([type]) => !allowed(type)).map(([, text]) => text);
}

/** JSON texts that have the right type but break a bound, an enum or a pattern. */
function outOfBounds(schema: Schema): string[] {
  const out: string[] = [];
  const types = typesOf(schema);
  if (Array.isArray(schema.enum) || schema.const !== undefined) {
    out.push(
      '"not_a_documented_value"',
      '""',
      JSON.stringify(`${String((schema.enum as unknown[] | undefined)?.[0] ?? schema.const)} `),
    );
    return out;
  }
  if (types.includes('integer') || types.includes('number')) {
    if (typeof schema.minimum === 'number') out.push(String(schema.minimum - 1), String(schema.minimum - 1e12));
    if (typeof schema.maximum === 'number') out.push(String(schema.maximum + 1), String(schema.maximum * 1e6 + 1));
    out.push('1e400', '-1e400');
    if (types.includes('integer') && !types.includes('number')) out.push('1.5', '9007199254740993.5');
  }
  if (types.includes('string')) {
    if (typeof schema.maxLength === 'number') out.push(JSON.stringify(LONG(schema.maxLength + 1)));
    if (typeof schema.minLength === 'number' && schema.minLength > 0) out.push('""');
    if (typeof schema.pattern === 'string') {
      const pattern = new RegExp(schema.pattern, 'u');
      for (const candidate of ['a\u0000b', 'line\nbreak', '\u007f', "' OR '1'='1", '../../etc/passwd', ' ', 'ｗｆ＿']) {
        if (!pattern.test(candidate)) out.push(JSON.stringify(candidate));
      }
    }
    if (schema.format === 'date-time') out.push('"2026-13-45T99:99:99Z"', '"yesterday"');
    if (schema.format === 'uri') out.push('"not a uri"', '"javascript:alert(1)x y"');
  }
  if (types.includes('array')) {
    if (typeof schema.maxItems === 'number')
      out.push(JSON.stringify(Array.from({ length: schema.maxItems + 1 }, (_, i) => `item${i}`)));
    if (typeof schema.minItems === 'number' && schema.minItems > 0) out.push('[]');
    if (schema.uniqueItems === true) out.push('["a","a"]');
  }
  if (types.includes('object')) {
    if (typeof schema.maxProperties === 'number')
      out.push(
        JSON.stringify(Object.fromEntries(Array.from({ length: schema.maxProperties + 1 }, (_, i) => [`k${i}`, 1]))),
      );
    if (typeof schema.minProperties === 'number' && schema.minProperties > 0) out.push('{}');
  }
  return out;
}

/** The JSON text of `value` with the property at `key` replaced by raw JSON text (or removed, or added). */
function withProperty(value: Record<string, unknown>, key: string, raw: string | undefined): string {
  const marker = `__FUZZ_${Math.random().toString(36).slice(2)}__`;
  const copy: Record<string, unknown> = { ...value };
  if (raw === undefined) {
    delete copy[key];
    return JSON.stringify(copy);
  }
  copy[key] = marker;
  return JSON.stringify(copy).replace(JSON.stringify(marker), raw);
}

/** Raw JSON text inserted as the first member of an object's text. */
function prependMember(json: string, member: string): string {
  return json.replace(/^\{/, json === '{}' ? `{${member}` : `{${member},`);
}

interface BodyMedia {
  mediaType: string;
  schema: Schema;
  example: Record<string, unknown> | undefined;
}

function bodyMedia(
  document: ContractDocument,
  operation: ContractOperation,
): { required: boolean; media: BodyMedia[] } | null {
  const raw = document.at(`${operation.pointer}/requestBody`);
  if (raw === undefined) return null;
  const body = document.resolve<{
    required?: boolean;
    content?: Record<string, { schema?: unknown; examples?: Record<string, unknown>; example?: unknown }>;
  }>(raw).value;
  const media = Object.entries(body.content ?? {}).map(([mediaType, entry]) => {
    const first = Object.values(entry.examples ?? {})[0];
    const example = (first === undefined ? entry.example : document.resolve<{ value?: unknown }>(first).value.value) as
      Record<string, unknown> | undefined;
    return { mediaType, schema: resolve(document, entry.schema ?? {}), example };
  });
  return { required: body.required === true, media };
}

function parametersOf(document: ContractDocument, operation: ContractOperation): Parameter[] {
  const raw = (document.at(`${operation.pointer}/parameters`) ?? []) as unknown[];
  return raw.map((p) => document.resolve<Parameter>(p).value);
}

const isForm = (mediaType: string) => mediaType.startsWith('application/x-www-form-urlencoded');

function formText(value: Record<string, unknown>): string {
  return new URLSearchParams(
    Object.entries(value).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  ).toString();
}

/** The valid request of an operation, from the target's real resources and the contract's examples. */
function baseRequest(document: ContractDocument, operation: ContractOperation, target: FuzzTarget) {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    encode((target.ids as Record<string, string>)[name] ?? 'unknown'),
  );
  const query: Array<[string, string]> = [];
  if (operation.operationId === 'authorize') {
    query.push(
      ['response_type', 'code'],
      ['client_id', target.authorize.clientId],
      ['redirect_uri', target.authorize.redirectUri],
      ['scope', 'workflows:read'],
      ['state', 'fuzz-state'],
      ['code_challenge', target.authorize.codeChallenge],
      ['code_challenge_method', 'S256'],
    );
  }
  const bearerOnly =
    operation.secured &&
    operation.security.every((requirement) => Object.keys(requirement).every((scheme) => scheme === 'BearerAuth'));
  const credential: Array<[string, string]> = operation.secured
    ? [['Authorization', `Bearer ${bearerOnly ? target.sessionToken : target.secretKey}`]]
    : [];
  const body = bodyMedia(document, operation);
  const first = body?.media[0];
  return { path, query, credential, body, first };
}

function target(path: string, query: Array<[string, string]>): string {
  const search = query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  return search ? `${path}?${search}` : path;
}

/**
 * The deterministic corpus for the contract. `thorough`: every injection and
 * unicode string in every place; otherwise one of each kind (same families, same
 * places, about half the requests).
 */
export function buildCorpus(
  document: ContractDocument,
  fuzz: FuzzTarget,
  options: { thorough: boolean } = { thorough: true },
): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const strings = options.thorough ? [...INJECTIONS, ...UNICODE] : SAMPLE;
  for (const operation of document.operations()) cases.push(...operationCases(document, operation, fuzz, strings));
  cases.push(...transportCases(fuzz));
  return cases;
}

function operationCases(
  document: ContractDocument,
  operation: ContractOperation,
  fuzz: FuzzTarget,
  strings: string[],
): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const { path, query, credential, body, first } = baseRequest(document, operation, fuzz);
  const method = operation.method.toUpperCase();
  const validBody = first?.example
    ? isForm(first.mediaType)
      ? formText(first.example)
      : JSON.stringify(first.example)
    : undefined;
  const contentType: Array<[string, string]> = first ? [['Content-Type', first.mediaType]] : [];
  const add = (
    name: string,
    expect: Expectation,
    request: Partial<RawRequest> & { target?: string },
    forbiddenHeaders?: string[],
  ) =>
    cases.push({
      name: `${operation.operationId} ${name}`,
      operationId: operation.operationId,
      expect,
      request: {
        method,
        target: request.target ?? target(path, query),
        headers: request.headers ?? [...credential, ...contentType],
        ...(request.body !== undefined ? { body: request.body } : validBody !== undefined ? { body: validBody } : {}),
        ...(request.contentLength !== undefined ? { contentLength: request.contentLength } : {}),
      },
      ...(forbiddenHeaders ? { forbiddenHeaders } : {}),
    });
  const withBody = (
    name: string,
    expect: Expectation,
    text: string | Buffer,
    headers: Array<[string, string]> = [...credential, ...contentType],
  ) => add(name, expect, { headers, body: text });
  const parameters = parametersOf(document, operation);
  const strictQuery = operation.operationId !== 'authorize';

  // --- query parameters -------------------------------------------------------
  if (strictQuery)
    add('query: an unknown parameter', 'reject', { target: target(path, [...query, ['unexpected', '1']]) });
  add('query: a huge unknown parameter', strictQuery ? 'reject' : 'any', {
    target: target(path, [...query, ['x', LONG(8000)]]),
  });
  add('query: prototype pollution', strictQuery ? 'reject' : 'any', {
    target: `${target(path, query)}${query.length ? '&' : '?'}__proto__[polluted]=1&constructor[prototype][polluted]=1`,
  });
  for (const parameter of parameters.filter((p) => p.in === 'query')) {
    const schema = resolve(document, parameter.schema ?? {});
    const others = query.filter(([k]) => k !== parameter.name);
    const bad = [...wrongTypes(schema).filter((t) => !t.startsWith('"')), ...outOfBounds(schema)]
      .map((text) => {
        try {
          const value = JSON.parse(text) as unknown;
          return typeof value === 'string' ? value : typeof value === 'object' ? null : text;
        } catch {
          return text;
        }
      })
      .filter((value): value is string => value !== null);
    // Strings are what a query carries: only those that break the schema as strings.
    const typed = typesOf(schema);
    for (const value of bad) {
      if (
        typed.includes('string') &&
        !schema.enum &&
        !schema.pattern &&
        !schema.format &&
        value.length <= ((schema.maxLength as number | undefined) ?? Infinity) &&
        value !== ''
      )
        continue;
      add(`query ${parameter.name}=${JSON.stringify(value.slice(0, 30))}`, 'reject', {
        target: target(path, [...others, [parameter.name, value]]),
      });
    }
    for (const value of strings) {
      add(
        `query ${parameter.name}: ${JSON.stringify(value.slice(0, 30))}`,
        schema.pattern || schema.enum || typed.includes('integer') ? 'reject' : 'any',
        { target: target(path, [...others, [parameter.name, value]]) },
      );
    }
    add(`query ${parameter.name} repeated`, 'any', {
      target: target(path, [...others, [parameter.name, 'a'], [parameter.name, 'b']]),
    });
    add(`query ${parameter.name} as an array`, 'any', {
      target: `${target(path, others)}${others.length ? '&' : '?'}${parameter.name}[]=1&${parameter.name}[x]=2`,
    });
    if (parameter.required) add(`query ${parameter.name} missing`, 'reject', { target: target(path, others) });
  }

  // --- path parameters --------------------------------------------------------
  for (const parameter of parameters.filter((p) => p.in === 'path')) {
    const real = (fuzz.ids as Record<string, string>)[parameter.name] ?? 'x';
    const at = (value: string) =>
      operation.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
        name === parameter.name ? value : encode((fuzz.ids as Record<string, string>)[name] ?? 'x'),
      );
    const prefix = real.slice(0, real.indexOf('_') + 1);
    const rejected = [
      ...strings,
      LONG(10_000),
      `${prefix}${'0'.repeat(23)}`,
      `${prefix}${'0'.repeat(25)}`,
      `${real}%00`,
      `${real} `,
      real.toUpperCase(),
      `${prefix === 'wf_' ? 'run_' : 'wf_'}000000000000000000000000`,
    ];
    for (const value of rejected)
      add(`path ${parameter.name}: ${JSON.stringify(value.slice(0, 30))}`, 'reject', {
        target: target(at(encode(value)), query),
      });
    // Raw (unencoded) traversal: the path no longer matches, or matches another template.
    for (const raw of ['..', '%2e%2e', '..%2f..%2fhealth', '.%2e/.%2e/v1/usage', '%252e%252e%252f'])
      add(`path ${parameter.name} raw ${raw}`, 'reject', { target: target(at(raw), query) });
    add(`path ${parameter.name}: a well-formed id nobody holds`, 'reject', {
      target: target(at(`${prefix}${'Z'.repeat(24)}`), query),
    });
  }

  // --- headers ------------------------------------------------------------------
  const idempotencyKey = parameters.find((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
  if (idempotencyKey) {
    for (const value of ['', LONG(256), 'caf\u00e9', 'a b', '\u0001']) {
      add(`header Idempotency-Key ${JSON.stringify(value.slice(0, 20))}`, 'reject', {
        headers: [...credential, ...contentType, ['Idempotency-Key', value]],
      });
    }
    add('header Idempotency-Key twice', 'any', {
      headers: [...credential, ...contentType, ['Idempotency-Key', 'fuzz-a'], ['Idempotency-Key', 'fuzz-b']],
    });
  }
  add('header: 20 KB of headers', 'reject', { headers: [...credential, ...contentType, ['X-Padding', LONG(20_000)]] });
  add('header: a control character', 'reject', { headers: [...credential, ...contentType, ['X-Fuzz', 'a\u0001b']] });
  add('header: a bare LF', 'reject', { headers: [...credential, ...contentType, ['X-Fuzz', 'a\nX-Injected: 1']] }, [
    'x-injected',
  ]);
  add('header: latin-1 bytes', 'any', { headers: [...credential, ...contentType, ['X-Fuzz', '\u00e9\u00ff']] });
  add('header: X-Forwarded-For and -Proto from an untrusted peer', 'any', {
    headers: [...credential, ...contentType, ['X-Forwarded-For', '203.0.113.9'], ['X-Forwarded-Proto', 'https']],
  });
  add('header: 300 extra headers', 'any', {
    headers: [
      ...credential,
      ...contentType,
      ...Array.from({ length: 300 }, (_, i) => [`X-Many-${i}`, 'x'] as [string, string]),
    ],
  });

  // --- credentials (secured operations) -------------------------------------------
  if (operation.secured) {
    const token = credential[0]![1].slice('Bearer '.length);
    const auth = (name: string, headers: Array<[string, string]>, expect: Expectation = 'reject') =>
      add(`auth: ${name}`, expect, { headers: [...headers, ...contentType] });
    auth('none', []);
    auth('Basic', [['Authorization', 'Basic dXNlcjpwYXNzd29yZA==']]);
    auth('Bearer without a credential', [['Authorization', 'Bearer']]);
    auth('Bearer with two credentials', [['Authorization', `Bearer ${token} ${token}`]]);
    auth('Bearer with a comma list', [['Authorization', `Bearer ${token}, Bearer x`]]);
    auth('Authorization and X-API-Key together', [
      ['Authorization', `Bearer ${token}`],
      ['X-API-Key', fuzz.secretKey],
    ]);
    auth('Authorization twice, valid first', [
      ['Authorization', `Bearer ${token}`],
      ['Authorization', 'Bearer sk_test_0000000000000000000000000000000000000000'],
    ]);
    auth('Authorization twice, valid last', [
      ['Authorization', 'Bearer sk_test_0000000000000000000000000000000000000000'],
      ['Authorization', `Bearer ${token}`],
    ]);
    auth('X-API-Key twice', [
      ['X-API-Key', fuzz.secretKey],
      ['X-API-Key', fuzz.secretKey],
    ]);
    auth('X-API-Key empty', [['X-API-Key', '']]);
    auth('a key with a wrong checksum', [
      ['Authorization', `Bearer ${fuzz.secretKey.slice(0, -1)}${fuzz.secretKey.endsWith('A') ? 'B' : 'A'}`],
    ]);
    auth('a key of the right shape nobody holds', [
      ['Authorization', 'Bearer sk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA000000'],
    ]);
    auth('a truncated key', [['Authorization', `Bearer ${fuzz.secretKey.slice(0, 20)}`]]);
    auth('a legacy key shape', [['X-API-Key', `wfk_${'a'.repeat(32)}`]]);
    auth('an unsigned JWT (alg none)', [['Authorization', `Bearer ${unsignedJwt()}`]]);
    auth('an HS256 JWT', [
      [
        'Authorization',
        'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfMSIsInNjb3BlIjoicmVhZCB3cml0ZSJ9.c2lnbmF0dXJl',
      ],
    ]);
    auth('a session token with a flipped signature', [
      ['Authorization', `Bearer ${fuzz.sessionToken.slice(0, -4)}AAAA`],
    ]);
    auth('a JWT of 8 KB', [['Authorization', `Bearer eyJ${'A'.repeat(8000)}.eyJ.sig`]]);
    for (const value of strings.slice(0, 6))
      auth(`Bearer ${JSON.stringify(value.slice(0, 20))}`, [['Authorization', `Bearer ${value}`]]);
    auth('Bearer with latin-1 bytes', [['Authorization', 'Bearer sk_test_\u00e9\u00e9']]);
    auth('X-API-Key with an SQL injection', [['X-API-Key', "' OR 1=1 --"]]);
    if (operation.method !== 'get' && operation.scopes.some((scope) => !scope.endsWith(':read'))) {
      auth('a read-only key on a write operation', [['Authorization', `Bearer ${fuzz.restrictedKey}`]]);
    }
  }

  // --- bodies ---------------------------------------------------------------------
  if (body && first) {
    for (const media of body.media) {
      const form = isForm(media.mediaType);
      const headers: Array<[string, string]> = [...credential, ['Content-Type', media.mediaType]];
      const example = media.example ?? {};
      const schema = media.schema;
      const properties = (schema.properties ?? {}) as Record<string, unknown>;
      const required = (schema.required ?? []) as string[];
      const closed = schema.additionalProperties === false || schema.unevaluatedProperties === false;
      const tag = body.media.length > 1 ? ` (${media.mediaType})` : '';
      const serialise = (value: Record<string, unknown>) => (form ? formText(value) : JSON.stringify(value));

      for (const name of required)
        withBody(
          `body${tag}: without required ${name}`,
          'reject',
          serialise(Object.fromEntries(Object.entries(example).filter(([k]) => k !== name))),
          headers,
        );
      if (closed) {
        withBody(`body${tag}: an unknown field`, 'reject', serialise({ ...example, unexpected_field: 'x' }), headers);
        if (!form) {
          withBody(
            `body${tag}: __proto__ member`,
            'reject',
            prependMember(JSON.stringify(example), '"__proto__":{"polluted":"yes","isAdmin":true}'),
            headers,
          );
          withBody(
            `body${tag}: constructor.prototype member`,
            'reject',
            prependMember(JSON.stringify(example), '"constructor":{"prototype":{"polluted":"yes"}}'),
            headers,
          );
        } else {
          withBody(
            `body${tag}: __proto__ field`,
            'reject',
            `${serialise(example)}&__proto__=polluted&constructor[prototype][polluted]=yes`,
            headers,
          );
        }
      } else if (!form) {
        withBody(
          `body${tag}: __proto__ member`,
          'any',
          prependMember(JSON.stringify(example), '"__proto__":{"polluted":"yes"}'),
          headers,
        );
      }
      for (const [name, propertySchema] of Object.entries(properties)) {
        const property = resolve(document, propertySchema);
        const values = form
          ? outOfBounds(property).filter((t) => t.startsWith('"'))
          : [...wrongTypes(property), ...outOfBounds(property)];
        for (const text of values) {
          const rendered = form
            ? `${formText(Object.fromEntries(Object.entries(example).filter(([k]) => k !== name)))}&${encode(name)}=${encode(JSON.parse(text) as string)}`
            : withProperty(example, name, text);
          withBody(`body${tag}: ${name} = ${text.slice(0, 40)}`, 'reject', rendered, headers);
        }
        if (typesOf(property).includes('string') && !form) {
          for (const value of strings)
            withBody(
              `body${tag}: ${name} = ${JSON.stringify(value.slice(0, 30))}`,
              'any',
              withProperty(example, name, JSON.stringify(value)),
              headers,
            );
        }
        if (form)
          withBody(
            `body${tag}: ${name} repeated`,
            'any',
            `${serialise(example)}&${encode(name)}=a&${encode(name)}=b`,
            headers,
          );
        // Free-form objects (run input, event data, set values) take any JSON: deep and polluting ones too.
        if (!form && typesOf(property).includes('object') && !property.properties) {
          withBody(
            `body${tag}: ${name} nested 2000 deep`,
            'any',
            withProperty(example, name, `{"a":${'['.repeat(2000)}${']'.repeat(2000)}}`),
            headers,
          );
          withBody(
            `body${tag}: ${name} nested 100000 deep`,
            'any',
            withProperty(example, name, `{"a":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`),
            headers,
          );
          withBody(
            `body${tag}: ${name} with __proto__`,
            'any',
            withProperty(
              example,
              name,
              '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}',
            ),
            headers,
          );
        }
      }
      if (!form) {
        for (const text of ['[]', '"a string"', '42', 'null', 'true', '[{}]'])
          withBody(`body${tag}: ${text}`, 'reject', text, headers);
        for (const text of [
          '{',
          '{"a":}',
          "{'a':1}",
          '{"a":1,}',
          '{"a":NaN}',
          '{"a":undefined}',
          '\u0000',
          '{"a":"\u0000"',
          `${'['.repeat(200_000)}`,
          `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
          '{"a":1}{"b":2}',
          'nul',
          '{"a":1} trailing',
        ]) {
          withBody(`body${tag}: malformed ${JSON.stringify(text.slice(0, 20))}`, 'reject', text, headers);
        }
        // RFC 8259 lets a parser ignore a byte order mark: accepted or not, never a 5xx.
        withBody(`body${tag}: a byte order mark`, 'any', `\ufeff${JSON.stringify(example)}`, headers);
        withBody(
          `body${tag}: invalid UTF-8`,
          'reject',
          Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
          headers,
        );
        if (required.length > 0) withBody(`body${tag}: {}`, 'reject', '{}', headers);
        withBody(
          `body${tag}: a duplicated key`,
          'any',
          prependMember(JSON.stringify(example), `"${Object.keys(example)[0] ?? 'a'}":{"dup":1}`),
          headers,
        );
      } else {
        for (const text of [
          '%',
          '%ZZ=1',
          '=&=&=',
          '&&&',
          'a[b][c][d]=1',
          Array.from({ length: 150 }, (_, i) => `p${i}=1`).join('&'),
        ]) {
          withBody(`body${tag}: form ${JSON.stringify(text.slice(0, 20))}`, 'reject', text, headers);
        }
      }
    }
    const sample = validBody ?? '{}';
    const ct = (value: string | null, expect: Expectation = 'reject') =>
      withBody(`content-type ${value ?? 'missing'}`, expect, sample, [
        ...credential,
        ...(value === null ? [] : ([['Content-Type', value]] as Array<[string, string]>)),
      ]);
    for (const value of [
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'image/png',
      '*/*',
      'application/json\u00e9',
    ])
      ct(value);
    ct(null, body.required ? 'reject' : 'any');
    if (!body.media.some((m) => isForm(m.mediaType))) ct('application/x-www-form-urlencoded');
    if (!body.media.some((m) => m.mediaType === 'application/json')) ct('application/json');
    withBody('content-encoding gzip (not gzip)', 'reject', sample, [
      ...credential,
      ...contentType,
      ['Content-Encoding', 'gzip'],
    ]);
    withBody('content-encoding br', 'reject', sample, [...credential, ...contentType, ['Content-Encoding', 'br']]);
    withBody('content-encoding unknown', 'reject', sample, [
      ...credential,
      ...contentType,
      ['Content-Encoding', 'x-fuzz'],
    ]);
    withBody('body: 2 MB', 'reject', `{"a":"${LONG(2 * 1024 * 1024)}"}`, [...credential, ...contentType]);
    add('body: 2 MB chunked', 'reject', {
      headers: [...credential, ...contentType, ['Transfer-Encoding', 'chunked']],
      body: chunked(`{"a":"${LONG(2 * 1024 * 1024)}"}`),
    });
    add('body: Content-Length and Transfer-Encoding both', 'reject', {
      headers: [...credential, ...contentType, ['Content-Length', '2'], ['Transfer-Encoding', 'chunked']],
      body: chunked(sample),
    });
    add('body: negative Content-Length', 'reject', {
      headers: [...credential, ...contentType, ['Content-Length', '-1']],
      body: sample,
    });
    add('body: Content-Length twice, conflicting', 'reject', {
      headers: [
        ...credential,
        ...contentType,
        ['Content-Length', String(Buffer.byteLength(sample))],
        ['Content-Length', '1'],
      ],
      body: sample,
    });
    if (body.required) add('body: empty', 'reject', { headers: [...credential, ...contentType], body: '' });
  } else if (operation.method !== 'get') {
    withBody('a body where none is documented', 'any', '{"unexpected":true}', [
      ...credential,
      ['Content-Type', 'application/json'],
    ]);
  } else {
    withBody('a GET with a body', 'any', '{"a":1}', [...credential, ['Content-Type', 'application/json']]);
  }
  return cases;
}

/** Requests that match no operation, or break HTTP itself. */
function transportCases(fuzz: FuzzTarget): FuzzCase[] {
  const auth: Array<[string, string]> = [['Authorization', `Bearer ${fuzz.secretKey}`]];
  const cases: FuzzCase[] = [];
  const add = (name: string, request: RawRequest, forbiddenHeaders?: string[], expect: Expectation = 'reject') =>
    cases.push({
      name: `transport: ${name}`,
      operationId: null,
      expect,
      request,
      ...(forbiddenHeaders ? { forbiddenHeaders } : {}),
    });
  for (const target of [
    '/v1/../health',
    '/v1/workflows/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '//v1/workflows',
    '/v1//workflows',
    '/v1/workflows/',
    '/v1/workflows%00',
    '/V1/WORKFLOWS',
    '/v1/workflows;jsessionid=1',
    '/v1/workflows%2f',
    '/v2/workflows',
    '/v1',
    '/',
    '/oauth/nope',
    '/.well-known/../v1/usage',
    '/.well-known/nope',
    '/health/../v1/usage',
    '/v1/workflows/%ZZ',
    '/v1/%F0%9F%92%A3',
    `/v1/${'a/'.repeat(3000)}`,
  ]) {
    add(`GET ${target.slice(0, 40)}`, { method: 'GET', target, headers: auth });
  }
  for (const method of ['PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'CONNECT'])
    add(`${method} /v1/workflows`, {
      method,
      target: method === 'CONNECT' ? '127.0.0.1:1' : '/v1/workflows',
      headers: auth,
    });
  add('a method Node does not know', { method: 'FUZZ', target: '/v1/workflows', headers: auth });
  add('a lower-case method', { method: 'get', target: '/v1/workflows', headers: auth });
  add('an absolute-form target', { method: 'GET', target: 'http://evil.example/v1/workflows', headers: auth });
  add('a target with a space', { method: 'GET', target: '/v1/work flows', headers: auth });
  add('a target with a control character', { method: 'GET', target: '/v1/workflows\u0001', headers: auth });
  add('a query of 20 KB', { method: 'GET', target: `/v1/workflows?limit=${'1'.repeat(20_000)}`, headers: auth });
  add('no Host header', { method: 'GET', target: '/v1/workflows', headers: auth, noHost: true });
  add('two Host headers', {
    method: 'GET',
    target: '/v1/workflows',
    headers: [['Host', 'a.example'], ['Host', 'b.example'], ...auth],
  });
  add(
    'an upgrade to WebSocket',
    {
      method: 'GET',
      target: '/v1/workflows',
      headers: [
        ...auth,
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ['Sec-WebSocket-Version', '13'],
      ],
    },
    [],
    'any',
  );
  add('an upgrade to h2c', {
    method: 'GET',
    target: '/v1/nope',
    headers: [
      ...auth,
      ['Upgrade', 'h2c'],
      ['Connection', 'Upgrade, HTTP2-Settings'],
      ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA'],
    ],
  });
  add('an empty Host header', { method: 'GET', target: '/v1/workflows', headers: [['Host', ''], ...auth] }, [], 'any');
  add('a header without a colon', {
    method: 'GET',
    target: '/v1/workflows',
    headers: [...auth, ['X-Broken\r\nno-colon-here', 'x']],
  });
  add('a header name with a space', { method: 'GET', target: '/v1/workflows', headers: [...auth, ['X Fuzz', '1']] });
  add('an obsolete folded header', {
    method: 'GET',
    target: '/v1/workflows',
    headers: [...auth, ['X-Fold', 'a\r\n b']],
  });
  add(
    'a response-splitting attempt in a header',
    { method: 'GET', target: '/v1/nope', headers: [...auth, ['X-Request-Id', 'abc\r\nX-Injected: 1']] },
    ['x-injected'],
  );
  return cases;
}

function chunked(text: string): Buffer {
  const data = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += 65_536) {
    const piece = data.subarray(at, at + 65_536);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

function unsignedJwt(): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode({ iss: 'http://localhost', sub: 'usr_000000000000000000000000', aud: 'aetherflow', scope: 'read write', iat: now, exp: now + 3600, jti: 'x' })}.`;
}
