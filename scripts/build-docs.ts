// Builds the docs site (`npm run docs`) into docs/site/, self-contained and
// offline: Redocly's build-docs with --inlineBundle renders the bundled contract,
// whose introduction is followed by the guides (docs/guides/*.md and
// docs/rate-limits.md) as sections of the same page:
//
//   docs/site/index.html         the reference and the guides (one file, no network needed)
//   docs/site/openapi.json       the contract it was built from, for download
//   docs/site/errors/index.html  where an error's `doc_url` (/errors#<code>) lands: sends
//                                the browser on to the code's section of the Errors guide
//
// The contract's own "Authentication", "Rate limits" and "Errors" sections are
// summaries; on the site the guides of the same names replace them. Every
// operation shows its code samples (curl, TypeScript, Python: scripts/code-samples.ts).
// Nothing is fetched from the network: Redoc's only remote asset, the Redocly
// attribution logo, is replaced by an inline copy of its words.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_SAMPLE_LANGUAGES, withCodeSamples } from './code-samples.ts';
import {
  errorCatalogue,
  errorTypeHeading,
  GUIDES,
  guideMarkdown,
  loadContract,
  root,
  type Contract,
  type Guide,
} from './docs-guides.ts';

export const SITE_DIR = path.join(root, 'docs', 'site');
export const SITE_TITLE = 'AetherFlow API documentation';

/**
 * The id Redoc gives a heading of the description (`section/<guide>/<this>`): the
 * heading without its code spans, through `slugify`'s defaults, in lower case.
 */
export function redocSlug(heading: string): string {
  return heading
    .replace(/`[^`]*`/g, '')
    .replace(/[^\w\s$*_+~.()'"!\-:@]/g, '')
    .trim()
    .replace(/[-\s]+/g, '-')
    .toLowerCase();
}

/** The anchor GitHub gives a heading, which the guides' own links use (`#response-headers`). */
export function githubSlug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The `##` and `###` headings of a guide, outside code blocks. */
export function headings(markdown: string): string[] {
  let fenced = false;
  const found: string[] = [];
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : /^#{2,3} (.+)$/.exec(line);
    if (match?.[1]) found.push(match[1].trim());
  }
  return found;
}

/** The site's address of a guide, or of one of its headings: `#/section/rate-limits/response-headers`. */
export function sectionHref(guide: Guide, heading?: string): string {
  return `#/section/${redocSlug(guide.title)}${heading === undefined ? '' : `/${redocSlug(heading)}`}`;
}

/**
 * Links between guides are written for GitHub (`../rate-limits.md#response-headers`,
 * `#the-limits`, `sdk.md`); on the site they become section links. A link to a
 * heading that does not exist stops the build.
 */
function rewriteLinks(markdown: string, guide: Guide, published: Map<Guide, string>): string {
  const byFile = new Map(GUIDES.map((entry) => [path.basename(entry.file), entry]));
  return markdown.replace(/\]\(([^)\s]*)\)/g, (whole, target: string) => {
    const match = /^(?:(?:\.\.?\/)*(?:[\w-]+\/)*([\w-]+\.md))?(?:#([^)\s]+))?$/.exec(target);
    if (!match || (!match[1] && !match[2])) return whole;
    const linked = match[1] ? byFile.get(match[1]) : guide;
    if (!linked) return whole;
    const anchor = match[2];
    if (anchor === undefined) return `](${sectionHref(linked)})`;
    const heading = headings(published.get(linked) ?? '').find(
      (text) => githubSlug(text) === anchor || redocSlug(text) === anchor,
    );
    if (heading === undefined) throw new Error(`${guide.file}: the link ${target} names no heading of ${linked.file}`);
    return `](${sectionHref(linked, heading)})`;
  });
}

/** The contract as the site shows it: its introduction, then every guide; code samples on every operation. */
export function docsContract(contract: Contract): Contract {
  const description = contract.info.description;
  const cut = description.search(/^# Authentication$/m);
  if (cut < 0) throw new Error('the contract description has no "# Authentication" section to hand over to the guides');
  const published = new Map(GUIDES.map((guide) => [guide, guideMarkdown(guide, contract)]));
  const guides = GUIDES.map((guide) => rewriteLinks(published.get(guide) ?? '', guide, published).trim());
  return withCodeSamples({
    ...contract,
    info: { ...contract.info, description: [description.slice(0, cut).trim(), ...guides].join('\n\n') + '\n' },
  });
}

function errorsRedirectPage(contract: Contract): string {
  const errors = GUIDES.find((guide) => guide.title === 'Errors');
  if (!errors) throw new Error('no Errors guide');
  const entries = errorCatalogue(contract);
  const sectionOf = Object.fromEntries(
    entries.map((entry) => [entry.code, redocSlug(errorTypeHeading(entry.type, entries))]),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Errors: ${SITE_TITLE}</title>
<meta name="robots" content="noindex">
<script>
  // An error's doc_url is .../errors#<code>: go to the section of the Errors guide that lists it.
  var sectionOf = ${JSON.stringify(sectionOf)};
  var code = decodeURIComponent(location.hash.slice(1));
  var section = Object.prototype.hasOwnProperty.call(sectionOf, code) ? '/' + sectionOf[code] : '';
  location.replace('../index.html${sectionHref(errors)}' + section);
</script>
</head>
<body><p><a href="../index.html${sectionHref(errors)}">Errors</a></p></body>
</html>
`;
}

/** The Redocly attribution as an inline SVG of its words, in place of the logo Redoc loads from its CDN. */
const ATTRIBUTION_LOGO = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="16" viewBox="0 0 64 16"><text x="0" y="12" font-family="sans-serif" font-size="12" fill="#888">Redocly</text></svg>',
)}`;

/**
 * The page without the remote asset it loads: Redoc's logo from cdn.redoc.ly. (The
 * bundle also names icon sets on a CDN, which only pages that use icons load; the
 * browser test records every request the page makes, and there is none.)
 */
export function withoutRemoteAssets(html: string): string {
  return withWrappedCode(withoutRemoteLogo(html));
}

/**
 * Code blocks wrap their long lines (a curl with a cursor, a JWT) instead of
 * hiding them behind a horizontal scroll, at every width: nothing of a sample is
 * out of sight. Redoc takes no option for this, so one rule is added to the page.
 */
function withWrappedCode(html: string): string {
  const rule = '<style>pre, pre code { white-space: pre-wrap !important; overflow-wrap: anywhere !important; }</style>';
  if (!html.includes('</head>')) throw new Error('the docs page has no </head> to add its code-wrapping rule to');
  return html.replace('</head>', `${rule}</head>`);
}

function withoutRemoteLogo(html: string): string {
  const replaced = html.replace(/https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini(?:-full)?\.svg/g, ATTRIBUTION_LOGO);
  if (replaced === html)
    throw new Error(
      "Redoc's logo URL was not found in the page: check what the docs page loads (test/docs/site.test.ts)",
    );
  return replaced;
}

export function buildDocs(outDir = SITE_DIR): { file: string; bytes: number } {
  const contract = loadContract();
  const scratch = mkdtempSync(path.join(tmpdir(), 'aetherflow-docs-'));
  try {
    const input = path.join(scratch, 'openapi.json');
    writeFileSync(input, JSON.stringify(docsContract(contract)));
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(path.join(outDir, 'errors'), { recursive: true });
    const file = path.join(outDir, 'index.html');
    // Redoc shows the x-codeSamples of the languages its configuration lists, in that order.
    // With telemetry off the page sends nothing either (it would report clicks to otel.cloud.redocly.com).
    const config = path.join(scratch, 'redocly.yaml');
    writeFileSync(
      config,
      `telemetry: off\nopenapi:\n  hideLogo: true\n  codeSamples:\n    languages:\n${CODE_SAMPLE_LANGUAGES.map((lang) => `      - lang: ${lang}\n`).join('')}`,
    );
    execFileSync(
      path.join(root, 'node_modules', '.bin', 'redocly'),
      ['build-docs', input, '--inlineBundle', '--output', file, '--title', SITE_TITLE, '--config', config],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REDOCLY_TELEMETRY: 'off' } },
    );
    writeFileSync(file, withoutRemoteAssets(readFileSync(file, 'utf8')));
    writeFileSync(path.join(outDir, 'openapi.json'), `${JSON.stringify(contract, null, 2)}\n`);
    writeFileSync(path.join(outDir, 'errors', 'index.html'), errorsRedirectPage(contract));
    return { file, bytes: statSync(file).size };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { file, bytes } = buildDocs();
  console.log(
    `built ${path.relative(root, file)} (${(bytes / 1024 / 1024).toFixed(1)} MB, self-contained) with ${GUIDES.length} guides`,
  );
}
