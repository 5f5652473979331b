// The code samples of every operation (curl, the TypeScript SDK, the generated
// Python client), written from one source: the operation's example request in the
// contract (scripts/request-examples.ts) and the rules below. The docs build adds
// them to the reference as `x-codeSamples` (scripts/build-docs.ts); the path files
// are not edited. test/docs/code-samples.test.ts runs every one against a server.
//
// Every sample reads the API's address and the credential from the environment:
//   AETHERFLOW_API_URL        https://api.aetherflow.com, http://127.0.0.1:3000 (npm start)
//   AETHERFLOW_API_KEY        an API key (most operations)
//   AETHERFLOW_ACCESS_TOKEN   a session's access token (logout)
//   AETHERFLOW_CLIENT_ID,     an OAuth app's credentials (the OAuth endpoints, with
//   AETHERFLOW_CLIENT_SECRET  HTTP Basic: client_secret_basic)
//   AETHERFLOW_BROWSER_COOKIE the cookie the login page set (the form a browser posts)
import { exampleRequests, type ExampleRequest } from './request-examples.ts';

type Json = Record<string, unknown>;

/** The languages, in the order the docs show them (Redoc names a sample's language and highlighting by `lang`). */
export const CODE_SAMPLE_LANGUAGES = ['curl', 'TypeScript', 'Python'] as const;

export interface CodeSample {
  lang: (typeof CODE_SAMPLE_LANGUAGES)[number];
  /** The tab's name. */
  label: 'curl' | 'TypeScript' | 'Python';
  source: string;
}

/** How an operation's caller identifies itself. */
type Caller = 'api_key' | 'session' | 'client_basic' | 'browser' | 'none';

function callerOf(request: ExampleRequest): Caller {
  if (request.operationId === 'logout') return 'session';
  if (request.secured) return 'api_key';
  if (request.operationId === 'submitAuthorization') return 'browser';
  const body = request.body?.value as Json | undefined;
  if (['issueToken', 'revokeToken', 'introspectToken'].includes(request.operationId) && body && !('client_id' in body))
    return 'client_basic';
  return 'none';
}

const FORM = 'application/x-www-form-urlencoded';

/** Which example request each language is written from: the first; the SDK prefers a JSON body. */
export function sampleRequests(
  document: Json,
): Map<string, { shell: ExampleRequest; typescript: ExampleRequest; python: ExampleRequest }> {
  const byOperation = new Map<string, ExampleRequest[]>();
  for (const request of exampleRequests(document))
    byOperation.set(request.operationId, [...(byOperation.get(request.operationId) ?? []), request]);
  const chosen = new Map<string, { shell: ExampleRequest; typescript: ExampleRequest; python: ExampleRequest }>();
  for (const [operationId, requests] of byOperation) {
    const first = requests[0]!;
    const json = requests.find((request) => request.body?.mediaType === 'application/json') ?? first;
    // The Python client is generated from the form variant where there is one.
    chosen.set(operationId, { shell: first, typescript: json, python: first });
  }
  return chosen;
}

/** The samples of every operation, by operationId. */
export function codeSamples(document: Json): Map<string, CodeSample[]> {
  const samples = new Map<string, CodeSample[]>();
  for (const [operationId, chosen] of sampleRequests(document)) {
    samples.set(operationId, [
      { lang: 'curl', label: 'curl', source: curlSample(chosen.shell) },
      { lang: 'TypeScript', label: 'TypeScript', source: typescriptSample(chosen.typescript) },
      { lang: 'Python', label: 'Python', source: pythonSample(chosen.python) },
    ]);
  }
  return samples;
}

/** The document with `x-codeSamples` on every operation. */
export function withCodeSamples<T extends Json>(document: T): T {
  const copy = structuredClone(document);
  const samples = codeSamples(copy);
  for (const item of Object.values((copy.paths ?? {}) as Record<string, Record<string, Json>>)) {
    for (const operation of Object.values(item)) {
      const found = typeof operation?.operationId === 'string' ? samples.get(operation.operationId) : undefined;
      if (found) operation['x-codeSamples'] = found;
    }
  }
  return copy;
}

// ---------------------------------------------------------------------------
// curl
// ---------------------------------------------------------------------------

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function url(request: ExampleRequest): string {
  const pathname = request.template.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(request.path[name] ?? ''),
  );
  const query = new URLSearchParams(
    request.query.map(([name, value]): [string, string] => [name, String(value)]),
  ).toString();
  return `$AETHERFLOW_API_URL${pathname}${query ? `?${query}` : ''}`;
}

function curlSample(request: ExampleRequest): string {
  const method = request.method.toUpperCase();
  const lines = [`curl ${method === 'GET' ? '' : `-X ${method} `}"${url(request)}"`];
  const caller = callerOf(request);
  if (caller === 'api_key') lines.push('-H "Authorization: Bearer $AETHERFLOW_API_KEY"');
  if (caller === 'session') lines.push('-H "Authorization: Bearer $AETHERFLOW_ACCESS_TOKEN"');
  if (caller === 'client_basic') lines.push('-u "$AETHERFLOW_CLIENT_ID:$AETHERFLOW_CLIENT_SECRET"');
  if (caller === 'browser') lines.push('-H "Cookie: $AETHERFLOW_BROWSER_COOKIE"');
  for (const [name, value] of Object.entries(request.headers)) lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  if (request.body?.mediaType === FORM) {
    for (const [name, value] of Object.entries(request.body.value as Json))
      lines.push(`--data-urlencode ${shellQuote(`${name}=${String(value)}`)}`);
  } else if (request.body) {
    lines.push(`-H "Content-Type: ${request.body.mediaType}"`);
    lines.push(`-d ${shellQuote(JSON.stringify(request.body.value, null, 2))}`);
  }
  return lines.join(' \\\n  ');
}

// ---------------------------------------------------------------------------
// TypeScript: the SDK, @aetherflow/sdk
// ---------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A value as a TypeScript literal, indented by `indent` spaces after the first line. */
function tsLiteral(value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => tsLiteral(item, indent + 2));
    const oneLine = `[${items.join(', ')}]`;
    return oneLine.length <= 60 && !oneLine.includes('\n')
      ? oneLine
      : `[\n${items.map((item) => `${pad}  ${item},`).join('\n')}\n${pad}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const fields = entries.map(
      ([key, item]) => `${IDENTIFIER.test(key) ? key : `'${key}'`}: ${tsLiteral(item, indent + 2)}`,
    );
    const oneLine = `{ ${fields.join(', ')} }`;
    return oneLine.length <= 60 && !oneLine.includes('\n')
      ? oneLine
      : `{\n${fields.map((field) => `${pad}  ${field},`).join('\n')}\n${pad}}`;
  }
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return JSON.stringify(value);
}

function typescriptSample(request: ExampleRequest): string {
  const caller = callerOf(request);
  const credential =
    caller === 'api_key'
      ? '\n  apiKey: process.env.AETHERFLOW_API_KEY,'
      : caller === 'session'
        ? '\n  accessToken: process.env.AETHERFLOW_ACCESS_TOKEN,'
        : '';
  const init: string[] = [];
  const params: string[] = [];
  if (Object.keys(request.path).length > 0) params.push(`path: ${tsLiteral(request.path, 6)}`);
  if (request.query.length > 0) params.push(`query: ${tsLiteral(Object.fromEntries(request.query), 6)}`);
  if (Object.keys(request.headers).length > 0) params.push(`header: ${tsLiteral(request.headers, 6)}`);
  if (params.length > 0) init.push(`params: {\n${params.map((param) => `      ${param},`).join('\n')}\n    }`);
  if (request.body) init.push(`body: ${tsLiteral(request.body.value, 4)}`);
  const headers: string[] = [];
  if (caller === 'client_basic')
    headers.push(
      'Authorization: `Basic ${btoa(`${process.env.AETHERFLOW_CLIENT_ID}:${process.env.AETHERFLOW_CLIENT_SECRET}`)}`',
    );
  if (caller === 'browser') headers.push('Cookie: process.env.AETHERFLOW_BROWSER_COOKIE');
  if (request.body?.mediaType === FORM) {
    headers.push(`'Content-Type': '${FORM}'`);
    init.push('bodySerializer: (body) => new URLSearchParams(body as Record<string, string>).toString()');
  }
  if (headers.length > 0) init.push(`headers: {\n${headers.map((header) => `      ${header},`).join('\n')}\n    }`);
  // HTML pages and empty answers are not JSON.
  const html = request.operationId === 'authorize' || request.operationId === 'submitAuthorization';
  if (html) init.push("parseAs: 'text'");
  const call = `aetherflow.${request.method.toUpperCase()}('${request.template}'${init.length > 0 ? `, {\n${init.map((entry) => `    ${entry},`).join('\n')}\n  }` : ''})`;
  return [
    "import { createAetherFlowClient, unwrap } from '@aetherflow/sdk';",
    '',
    'const aetherflow = createAetherFlowClient({',
    `  baseUrl: process.env.AETHERFLOW_API_URL,${credential}`,
    '});',
    '',
    `const answer = await unwrap(\n  ${call},\n);`,
    'console.log(answer);',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Python: the generated client, clients/python (package aetherflow)
// ---------------------------------------------------------------------------

/** openapi-generator's `underscore`: `createOAuthClient` -> `create_o_auth_client`, `Idempotency-Key` -> `idempotency_key`. */
const snake = (name: string): string =>
  name
    .replace(/([A-Z]+)([A-Z][a-z][a-z]+)/g, '$1_$2')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();

/** The generated API class of a tag: `API Keys` -> `APIKeysApi`, `OAuth Apps` -> `OAuthAppsApi`. */
const apiClass = (tag: string): string => `${tag.replace(/[^A-Za-z0-9]/g, '')}Api`;

function pyLiteral(value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => pyLiteral(item, indent + 4));
    const oneLine = `[${items.join(', ')}]`;
    return oneLine.length <= 60 && !oneLine.includes('\n')
      ? oneLine
      : `[\n${items.map((item) => `${pad}    ${item},`).join('\n')}\n${pad}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const fields = entries.map(([key, item]) => `${JSON.stringify(key)}: ${pyLiteral(item, indent + 4)}`);
    const oneLine = `{${fields.join(', ')}}`;
    return oneLine.length <= 60 && !oneLine.includes('\n')
      ? oneLine
      : `{\n${fields.map((field) => `${pad}    ${field},`).join('\n')}\n${pad}}`;
  }
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return JSON.stringify(value);
}

function pythonSample(request: ExampleRequest): string {
  const caller = callerOf(request);
  const lines = [...(caller === 'client_basic' ? ['import base64'] : []), 'import os', '', 'import aetherflow', ''];
  lines.push('configuration = aetherflow.Configuration(host=os.environ["AETHERFLOW_API_URL"])');
  if (caller === 'api_key') lines.push('configuration.access_token = os.environ["AETHERFLOW_API_KEY"]');
  if (caller === 'session') lines.push('configuration.access_token = os.environ["AETHERFLOW_ACCESS_TOKEN"]');
  lines.push('client = aetherflow.ApiClient(configuration)');
  if (caller === 'client_basic') {
    lines.push('credentials = f\'{os.environ["AETHERFLOW_CLIENT_ID"]}:{os.environ["AETHERFLOW_CLIENT_SECRET"]}\'');
    lines.push(
      'client.set_default_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())',
    );
  }
  if (caller === 'browser') lines.push('client.cookie = os.environ["AETHERFLOW_BROWSER_COOKIE"]');
  const args: string[] = [];
  for (const [name, value] of Object.entries(request.path)) args.push(`${snake(name)}=${pyLiteral(value, 4)}`);
  if (request.body?.mediaType === FORM) {
    for (const [name, value] of Object.entries(request.body.value as Json))
      args.push(`${snake(name)}=${pyLiteral(value, 4)}`);
  } else if (request.body) {
    args.push(`${snake(request.body.schema ?? 'body')}=${pyLiteral(request.body.value, 4)}`);
  }
  for (const [name, value] of request.query) args.push(`${snake(name)}=${pyLiteral(value, 4)}`);
  for (const [name, value] of Object.entries(request.headers)) args.push(`${snake(name)}=${pyLiteral(value, 4)}`);
  const call = `aetherflow.${apiClass(request.tag)}(client).${snake(request.operationId)}(`;
  lines.push(
    '',
    args.length === 0 ? `answer = ${call})` : `answer = ${call}\n${args.map((arg) => `    ${arg},`).join('\n')}\n)`,
    'print(answer)',
  );
  return lines.join('\n');
}
