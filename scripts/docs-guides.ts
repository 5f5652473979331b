// The guides of the docs site and what is derived from the contract for them:
// which markdown files, in which order, and the Errors guide's catalogue, built
// from the contract's `ErrorCode` and `OAuthError` tables (so it cannot drift).
// Shared by the build (scripts/build-docs.ts) and the tests (test/docs/).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Guide {
  /** The guide's `# Title`, which is also its section in the site: `#/section/<slug>`. */
  title: string;
  /** The markdown file, relative to the repository. */
  file: string;
}

/** The guides, in the order of the site's sidebar (after the contract's own introduction). */
export const GUIDES: readonly Guide[] = [
  { title: 'Authentication', file: 'docs/guides/authentication.md' },
  { title: 'Rate limits', file: 'docs/rate-limits.md' },
  { title: 'Errors', file: 'docs/guides/errors.md' },
  { title: 'OAuth app quick start', file: 'docs/guides/oauth-quick-start.md' },
  { title: 'Mock server', file: 'docs/guides/mock-server.md' },
  { title: 'SDK', file: 'docs/guides/sdk.md' },
];

/** Where the Errors guide gets the generated catalogue. */
export const CATALOGUE_PLACEHOLDER = '<!-- error-catalogue: generated from the contract by scripts/docs-guides.ts -->';

/** A guide's text as published: the Errors guide with its catalogue filled in. */
export function guideMarkdown(guide: Guide, contract: Contract): string {
  const text = readFileSync(path.join(root, guide.file), 'utf8');
  const title = /^# (.+)$/m.exec(text)?.[1];
  if (title !== guide.title)
    throw new Error(`${guide.file} must start with "# ${guide.title}", found "# ${title ?? ''}"`);
  if (!text.includes(CATALOGUE_PLACEHOLDER)) return text;
  return text.replace(CATALOGUE_PLACEHOLDER, errorCatalogueMarkdown(contract));
}

export interface Contract {
  info: { description: string };
  components: {
    schemas: Record<
      string,
      { description?: string; enum?: string[]; 'x-error-catalogue'?: Record<string, { type: string; status: number }> }
    >;
  };
  [key: string]: unknown;
}

export function loadContract(): Contract {
  return JSON.parse(readFileSync(path.join(root, 'generated', 'openapi.json'), 'utf8')) as Contract;
}

export interface CatalogueEntry {
  code: string;
  type: string;
  status: number;
  meaning: string;
  action: string;
}

/** The order in which the Errors guide presents the error types. */
export const ERROR_TYPES = [
  {
    type: 'authentication_error',
    summary: 'The request has no valid credential. Always `401`, with a `WWW-Authenticate` challenge (RFC 6750).',
  },
  {
    type: 'authorization_error',
    summary: 'The credential is valid but may not do this. `403`; a missing scope is named in `WWW-Authenticate`.',
  },
  {
    type: 'invalid_request_error',
    summary: 'The request itself is wrong. Fix it before sending it again: a retry gets the same answer.',
  },
  {
    type: 'not_found_error',
    summary:
      'Nothing there for this credential. Resources of other projects, or of the other environment, are reported as not found, never as forbidden.',
  },
  { type: 'conflict_error', summary: 'The request conflicts with the state of a resource or with an earlier request.' },
  {
    type: 'rate_limit_error',
    summary: 'Too many requests. Wait `Retry-After` seconds, then retry: see [Rate limits](../rate-limits.md).',
  },
  {
    type: 'api_error',
    summary: "A problem on AetherFlow's side. Retry with exponential backoff; quote `request_id` if it persists.",
  },
] as const;

/** Rows of a markdown table in a schema's description whose first cell is a `code`. */
function tableRows(description: string): string[][] {
  return description
    .split('\n')
    .filter((line) => /^\| `[a-z_]+` \|/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
}

/** The `/v1` error catalogue: the enum, `x-error-catalogue` and the description's table, checked to agree. */
export function errorCatalogue(contract: Contract): CatalogueEntry[] {
  const schema = contract.components.schemas.ErrorCode;
  if (!schema?.enum || !schema['x-error-catalogue'] || !schema.description)
    throw new Error('the contract has no ErrorCode catalogue');
  const machine = schema['x-error-catalogue'];
  const rows = new Map(tableRows(schema.description).map((cells) => [cells[0]?.replaceAll('`', '') ?? '', cells]));
  return schema.enum.map((code) => {
    const cells = rows.get(code);
    const entry = machine[code];
    if (!cells || cells.length !== 5 || !entry)
      throw new Error(`ErrorCode: ${code} is missing from the description's table or from x-error-catalogue`);
    const [, type, status, meaning, action] = cells as [string, string, string, string, string];
    if (type !== entry.type || Number(status) !== entry.status)
      throw new Error(
        `ErrorCode: ${code} is ${type} ${status} in the table but ${entry.type} ${entry.status} in x-error-catalogue`,
      );
    return { code, type, status: entry.status, meaning, action };
  });
}

/** The OAuth endpoints' errors (RFC 6749 form), from the `OAuthError` description's table. */
export function oauthErrorCatalogue(contract: Contract): { error: string; status: number; meaning: string }[] {
  const description = contract.components.schemas.OAuthError?.description ?? '';
  return tableRows(description).map((cells) => ({
    error: cells[0]?.replaceAll('`', '') ?? '',
    status: Number(cells[1]),
    meaning: cells[2] ?? '',
  }));
}

/** The Errors guide's heading for one type: `authentication_error (401)`. */
export function errorTypeHeading(type: string, entries: CatalogueEntry[]): string {
  const statuses = [...new Set(entries.filter((entry) => entry.type === type).map((entry) => entry.status))].join(', ');
  return `${type} (${statuses})`;
}

function errorCatalogueMarkdown(contract: Contract): string {
  const entries = errorCatalogue(contract);
  const known = new Set<string>(ERROR_TYPES.map((entry) => entry.type));
  const strays = entries.filter((entry) => !known.has(entry.type));
  if (strays.length > 0)
    throw new Error(`error types missing from ERROR_TYPES: ${strays.map((entry) => entry.type).join(', ')}`);
  const sections = ERROR_TYPES.map(({ type, summary }) => {
    const codes = entries.filter((entry) => entry.type === type);
    // The heading gives the status; a column only when the type has several.
    const several = new Set(codes.map((entry) => entry.status)).size > 1;
    const rows = codes.map(
      (entry) => `| \`${entry.code}\` |${several ? ` ${entry.status} |` : ''} ${entry.meaning} | ${entry.action} |`,
    );
    const head = several
      ? ['| code | status | what it means | what to do |', '|---|---|---|---|']
      : ['| code | what it means | what to do |', '|---|---|---|'];
    return [`## ${errorTypeHeading(type, entries)}`, '', summary, '', ...head, ...rows, ''].join('\n');
  });
  const oauth = oauthErrorCatalogue(contract).map(
    (entry) => `| \`${entry.error}\` | ${entry.status} | ${entry.meaning} |`,
  );
  return [
    ...sections,
    '## OAuth endpoint errors',
    '',
    '`/oauth/token`, `/oauth/revoke` and `/oauth/introspect` answer in the form OAuth client',
    'libraries expect (RFC 6749 section 5.2): `{"error": "...", "error_description": "..."}`.',
    'Branch on `error`.',
    '',
    '| error | status | what it means |',
    '|---|---|---|',
    ...oauth,
    '',
  ].join('\n');
}
