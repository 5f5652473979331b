// The code examples of the guides, as the docs site shows them. Each bash,
// TypeScript or Python block is preceded by a marker saying whether CI runs it:
//
//   <!-- run -->                          against the real server
//   <!-- run: expect=<code> -->           ... and it must answer that error code
//   <!-- run: mock -->                    against the Prism mock (`mock, expect=<code>` too)
//   <!-- not run: <reason> -->            shown only (it starts a server, needs a browser...)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GUIDES, root } from '../../scripts/docs-guides.ts';

export type Language = 'bash' | 'ts' | 'python';

export interface GuideExample {
  /** `docs/guides/authentication.md:42` */
  where: string;
  file: string;
  line: number;
  language: Language;
  code: string;
  run: boolean;
  target: 'server' | 'mock';
  /** The error code the example must produce, if it demonstrates an error. */
  expect: string | null;
  /** Why it is not run. */
  reason: string | null;
}

const LANGUAGES: Record<string, Language> = {
  bash: 'bash',
  sh: 'bash',
  shell: 'bash',
  ts: 'ts',
  typescript: 'ts',
  python: 'python',
  py: 'python',
};

/** Every runnable-language block of every guide; throws on a block without a marker. */
export function guideExamples(): GuideExample[] {
  return GUIDES.flatMap((guide) => examplesOf(guide.file));
}

export function examplesOf(file: string): GuideExample[] {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  const examples: GuideExample[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```(\w+)\s*$/.exec(lines[index] ?? '');
    if (!fence) continue;
    const end = lines.findIndex((line, at) => at > index && line.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${index + 1}: unclosed code block`);
    const language = LANGUAGES[fence[1] ?? ''];
    const code = lines.slice(index + 1, end).join('\n') + '\n';
    const startLine = index + 1;
    index = end;
    if (!language) continue;
    const marker = previousNonBlank(lines, startLine - 2);
    const where = `${file}:${startLine}`;
    const run = /^<!-- run(?::\s*([^>]*?))?\s*-->$/.exec(marker);
    const skip = /^<!-- not run: (.+?)\s*-->$/.exec(marker);
    if (!run && !skip)
      throw new Error(
        `${where}: a ${language} example needs a marker on the line before it: <!-- run -->, <!-- run: mock -->, <!-- run: expect=<code> --> or <!-- not run: <reason> -->`,
      );
    const options = (run?.[1] ?? '')
      .split(',')
      .map((option) => option.trim())
      .filter(Boolean);
    for (const option of options) {
      if (option !== 'mock' && !/^expect=[a-z_]+$/.test(option))
        throw new Error(`${where}: unknown marker option "${option}"`);
    }
    examples.push({
      where,
      file,
      line: startLine,
      language,
      code,
      run: Boolean(run),
      target: options.includes('mock') ? 'mock' : 'server',
      expect: options.find((option) => option.startsWith('expect='))?.slice('expect='.length) ?? null,
      reason: skip?.[1] ?? null,
    });
  }
  return examples;
}

function previousNonBlank(lines: string[], from: number): string {
  for (let index = from; index >= 0; index--) {
    const line = (lines[index] ?? '').trim();
    if (line !== '') return line;
  }
  return '';
}
