// The docs site as a reader sees it: builds docs/site/ (`npm run docs`), opens it
// in Debian's chromium (driven by playwright-core) straight from the file system
// with the network cut off, and checks that every operation and every guide (and
// each of its headings) is reachable, that links between guides land on a
// heading, that search finds an operation, that an error's doc_url lands on
// its section, and that at desktop and phone widths every operation shows its
// code samples (curl, TypeScript, Python) whole: no code block clipped, nothing
// wider than the screen. Screenshots go to test-results/docs/ (gitignored).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildDocs, docsContract, headings, redocSlug, SITE_DIR } from '../../scripts/build-docs.ts';
import { CODE_SAMPLE_LANGUAGES, codeSamples } from '../../scripts/code-samples.ts';
import { GUIDES, guideMarkdown, loadContract, root } from '../../scripts/docs-guides.ts';

// What the functions passed to page.evaluate() see, in the browser (this file is not compiled with the DOM library).
declare const window: { location: { hash: string } };
interface ElementLike {
  textContent: string | null;
  scrollWidth: number;
  clientWidth: number;
  getBoundingClientRect(): { top: number; left: number; right: number; bottom: number };
  querySelectorAll(selector: string): ArrayLike<ElementLike>;
  scrollIntoView(options?: unknown): void;
}
declare const document: { getElementById(id: string): ElementLike | null; documentElement: ElementLike };
declare function requestAnimationFrame(callback: (time: number) => void): number;

const CHROMIUM = '/usr/bin/chromium';
const shots = path.join(root, 'test-results', 'docs');
const contract = loadContract();
const site = pathToFileURL(path.join(SITE_DIR, 'index.html')).href;

interface Operation {
  operationId: string;
  summary: string;
  tag: string;
}

const operations: Operation[] = Object.values(
  contract.paths as Record<string, Record<string, { operationId?: string; summary?: string; tags?: string[] }>>,
).flatMap((item) =>
  Object.values(item)
    .filter((operation) => typeof operation === 'object' && operation?.operationId)
    .map((operation) => ({
      operationId: operation.operationId ?? '',
      summary: operation.summary ?? '',
      tag: operation.tags?.[0] ?? '',
    })),
);

let browser: Browser;
let page: Page;
/** Requests that tried to leave the file system (all refused). */
const external: string[] = [];
const started = Date.now();

/** A page of the site at `width` x `height`, offline (every request outside the file system refused and recorded). */
async function openSite(width: number, height: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  const opened = await context.newPage();
  await opened.goto(site);
  await opened.locator('h1').first().waitFor();
  return opened;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  buildDocs();
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  // Offline: the site must render from its one file.
  page = await openSite(1280, 900);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  console.log(
    `docs site: ${(statSync(path.join(SITE_DIR, 'index.html')).size / 1024 / 1024).toFixed(1)} MB; browser test ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});

/**
 * Goes to a route of the site (a hash, as a link would) and waits until the element
 * with `id` is scrolled to the top of the view; returns its text.
 */
async function open(hash: string, id: string, on: Page = page): Promise<string> {
  await on.evaluate((target) => {
    window.location.hash = target;
  }, hash);
  const top = () =>
    on.evaluate((target) => {
      const element = document.getElementById(target);
      return element ? Math.round(element.getBoundingClientRect().top) : null;
    }, id);
  await expect
    .poll(top, { timeout: 10_000, interval: 25, message: `${hash} shows #${id} at the top` })
    .toSatisfy((value: number | null) => value !== null && value > -10 && value < 150);
  return on.evaluate((target) => document.getElementById(target)?.textContent ?? '', id);
}

/** A screenshot once the view has painted (virtualized sections mount a frame after they scroll in). */
async function shot(name: string, on: Page = page): Promise<void> {
  await on.evaluate(
    () => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))),
  );
  await on.waitForTimeout(300);
  await on.screenshot({ path: path.join(shots, `${name}.png`) });
}

describe('the docs site', () => {
  test('renders offline: the reference and every guide are in the sidebar, nothing is fetched', async () => {
    const sidebar = await page.locator('body').innerText();
    for (const guide of GUIDES) expect(sidebar).toContain(guide.title);
    for (const tag of new Set(operations.map((operation) => operation.tag))) expect(sidebar).toContain(tag);
    await shot('home');
    expect(external).toEqual([]);
  });

  test('every operation of the contract has its page', async () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const operation of operations) {
      const id = `${redocSlug(operation.tag)}/${operation.operationId.toLowerCase()}`;
      expect(await open(`#/${id}`, id), operation.operationId).toContain(operation.summary);
    }
    await open('#/workflows/createworkflow', 'workflows/createworkflow');
    await shot('operation-createWorkflow');
  }, 120_000);

  test('every guide and each of its headings is reachable; links between guides land on a heading', async () => {
    const description = docsContract(contract).info.description;
    const ids = new Set<string>();
    for (const guide of GUIDES) {
      const section = `section/${redocSlug(guide.title)}`;
      expect(await open(`#/${section}`, section)).toContain(guide.title);
      await shot(`guide-${redocSlug(guide.title)}`);
      for (const heading of headings(guideMarkdown(guide, contract))) {
        const id = `${section}/${redocSlug(heading)}`;
        ids.add(id);
        expect(await open(`#/${id}`, id), `${guide.file}: ${heading}`).toContain(heading.replace(/`/g, ''));
      }
    }
    const links = [...description.matchAll(/\]\(#\/(section\/[^)]+)\)/g)].map((match) => match[1] ?? '');
    expect(links.length).toBeGreaterThan(5);
    const guideIds = new Set(GUIDES.map((guide) => `section/${redocSlug(guide.title)}`));
    expect(links.filter((link) => !ids.has(link) && !guideIds.has(link))).toEqual([]);

    // A real click on a link between guides, and on the sidebar.
    await open('#/section/authentication', 'section/authentication');
    await page.locator('main a[href="#/section/sdk"], #api-content a[href="#/section/sdk"]').first().click();
    await expect.poll(() => page.url()).toContain('#/section/sdk');
    await page.getByText('Mock server', { exact: true }).first().click();
    await expect.poll(() => page.url()).toContain('#/section/mock-server');
  }, 60_000);

  test('search finds an operation and takes the reader to it', async () => {
    await open('#/section/conventions', 'section/conventions');
    await page.getByText('Search', { exact: false }).first().click();
    const input = page.getByPlaceholder('Search docs...');
    await input.fill('List workflows');
    const result = page.getByText('List workflows', { exact: true }).first();
    await result.waitFor();
    await shot('search');
    await result.click();
    await expect.poll(() => page.url()).toContain('#/workflows/listworkflows');
    expect(await open('#/workflows/listworkflows', 'workflows/listworkflows')).toContain('List workflows');
  });

  test("an error's doc_url (/errors#<code>) lands on its section of the Errors guide", async () => {
    await page.goto(pathToFileURL(path.join(SITE_DIR, 'errors', 'index.html')).href + '#insufficient_scope');
    await expect.poll(() => page.url()).toContain('#/section/errors/authorization_error');
    const section = 'section/errors/authorization_error-(403)';
    await expect
      .poll(() =>
        page.evaluate((id) => Math.round(document.getElementById(id)?.getBoundingClientRect().top ?? -1000), section),
      )
      .toSatisfy((top: number) => top > -10 && top < 150);
    expect(await page.getByText('insufficient_scope', { exact: true }).first().isVisible()).toBe(true);
    await shot('errors-insufficient_scope');
  });

  const samples = codeSamples(contract);
  const normalized = (text: string) => text.replace(/\s+/g, ' ').trim();

  for (const [device, width, height] of [
    ['desktop', 1280, 900],
    ['phone', 390, 844],
  ] as const) {
    test(`${device} (${width} px): every operation shows its curl, TypeScript and Python samples whole; nothing is wider than the screen`, async () => {
      const view = await openSite(width, height);
      const problems: string[] = [];
      for (const language of CODE_SAMPLE_LANGUAGES) {
        for (const operation of operations) {
          const id = `${redocSlug(operation.tag)}/${operation.operationId.toLowerCase()}`;
          await open(`#/${id}`, id, view);
          const section = view.locator(`[id="${id}"]`);
          const chooser = section
            .locator('button[aria-haspopup="menu"]')
            .filter({ hasText: new RegExp(`^(${CODE_SAMPLE_LANGUAGES.join('|')})$`) })
            .first();
          if ((await chooser.innerText()).trim() !== language) {
            await chooser.click();
            await view.getByRole('menuitem', { name: language, exact: true }).click();
            await expect.poll(async () => (await chooser.innerText()).trim()).toBe(language);
          }
          const source = samples.get(operation.operationId)?.find((sample) => sample.lang === language)?.source ?? '';
          // The code block holding the sample: its text is the sample's, it fits its box, and the box fits the screen.
          const shown = await view.evaluate(
            ({ target, expected }) => {
              const blocks = Array.from(document.getElementById(target)?.querySelectorAll('pre') ?? []);
              const block = blocks.find((pre) => (pre.textContent ?? '').replace(/\s+/g, ' ').trim() === expected);
              if (!block) return null;
              block.scrollIntoView({ block: 'center' });
              const box = block.getBoundingClientRect();
              // Any code block of the operation (examples, schemas) wider than its box hides part of itself.
              const clippedElsewhere = blocks.filter((pre) => pre.scrollWidth > pre.clientWidth + 1).length;
              return {
                clipped: block.scrollWidth > block.clientWidth + 1,
                clippedElsewhere,
                left: box.left,
                right: box.right,
                pageWidth: document.documentElement.scrollWidth,
                viewport: document.documentElement.clientWidth,
              };
            },
            { target: id, expected: normalized(source) },
          );
          // The check scrolled the sample into view: a picture of one operation's.
          if (operation.operationId === 'createWorkflow') await shot(`samples-${device}-${language}`, view);
          const where = `${operation.operationId} (${language})`;
          if (!shown) problems.push(`${where}: the sample is not shown`);
          else {
            if (shown.clipped) problems.push(`${where}: the code block is wider than its box`);
            if (shown.clippedElsewhere > 0)
              problems.push(
                `${where}: ${shown.clippedElsewhere} code block(s) of the operation are wider than their box`,
              );
            if (shown.left < 0 || shown.right > width)
              problems.push(
                `${where}: the code block reaches outside the screen (${Math.round(shown.left)}..${Math.round(shown.right)})`,
              );
            if (shown.pageWidth > shown.viewport)
              problems.push(`${where}: the page is ${shown.pageWidth} px wide on a ${shown.viewport} px screen`);
          }
        }
      }
      await view.context().close();
      expect(problems.join('\n')).toBe('');
      expect(external).toEqual([]);
    }, 300_000);
  }
});
