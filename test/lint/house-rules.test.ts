// The house rules of redocly.yaml, each shown firing. Every house rule
// `rule/<name>` has a fixture test/fixtures/lint/<name>.yaml that breaks exactly
// that rule (its header comment says how, and how many times); valid.yaml breaks
// none. Fixtures $ref the real shared components in openapi/components/, so the
// rules are tested against the real layout. All fixtures are linted by one
// `redocly lint` run (about 1.5 s), which prints one JSON report per fixture, in
// the order given, on stdout; the Node-version banner goes to stderr.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const redocly = path.join(root, 'node_modules', '.bin', 'redocly');
const fixturesDir = 'test/fixtures/lint';

/** House rule -> how many problems its fixture must produce (one per defect in it). */
const expectedProblems: Record<string, number> = {
  'rule/operation-has-operation-id': 2,
  'rule/operation-has-summary': 2,
  'rule/operation-has-one-tag': 2,
  'rule/operation-has-security': 1,
  'rule/secured-operation-shared-errors': 4,
  'rule/rate-limited-answer-headers': 1,
  'rule/rate-limited-429-headers': 1,
  'rule/v1-error-envelope': 3,
  'rule/media-type-example': 2,
  'rule/response-x-request-id': 2,
};

interface LintLocation {
  source: { ref: string };
  pointer?: string;
}
interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: LintLocation[];
}
interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: LintProblem[];
}
interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(redocly, args, {
      cwd: root,
      // No telemetry or update checks (no network here), no colours in the output.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `redocly lint --format=json a b c` prints one JSON object per API, back to back. */
function parseReports(text: string): LintReport[] {
  const reports: LintReport[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (depth === 0) {
      // Between objects: skip anything that is not the start of the next one.
      if (c === '{') {
        start = i;
        depth = 1;
      }
      continue;
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) reports.push(JSON.parse(text.slice(start, i + 1)) as LintReport);
  }
  return reports;
}

const isHouseRule = (ruleId: string) => ruleId.startsWith('rule/');
const fixtureFor = (rule: string) => `${fixturesDir}/${rule.slice('rule/'.length)}.yaml`;
const pointerOf = (p: LintProblem) => p.location[0]?.pointer;
/** One line per problem, so that a failing expectation reads like lint output. */
const lines = (problems: LintProblem[]) =>
  problems.map((p) => `${p.ruleId} at ${p.location[0]?.source.ref}${pointerOf(p) ?? ''}: ${p.message}`);

const config = parse(readFileSync(path.join(root, 'redocly.yaml'), 'utf8')) as {
  rules: Record<string, unknown>;
};
const configuredHouseRules = Object.keys(config.rules).filter(isHouseRule).sort();
const fixtureFiles = readdirSync(path.join(root, fixturesDir))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => `${fixturesDir}/${f}`);

const reports = new Map<string, LintReport>();
let lintRun: RunResult;

beforeAll(async () => {
  lintRun = await run([
    'lint',
    ...fixtureFiles,
    '--config',
    'redocly.yaml',
    '--format',
    'json',
    '--max-problems',
    '100000',
  ]);
  const parsed = parseReports(lintRun.stdout);
  if (parsed.length !== fixtureFiles.length) {
    throw new Error(
      `expected ${fixtureFiles.length} JSON reports from redocly lint, got ${parsed.length}\n` +
        `exit ${lintRun.status}\nstderr:\n${lintRun.stderr}`,
    );
  }
  fixtureFiles.forEach((file, i) => reports.set(file, parsed[i]!));
}, 60_000);

function reportFor(file: string): LintReport {
  const report = reports.get(file);
  if (!report) throw new Error(`no lint report for ${file}`);
  return report;
}

describe('redocly.yaml', () => {
  it('is a configuration redocly accepts (unknown rules or options are errors)', async () => {
    const { status, stderr } = await run(['check-config', '--config', 'redocly.yaml']);
    expect(status, stderr).toBe(0);
  }, 30_000);

  it('has one fixture per house rule, and one house rule per fixture', () => {
    expect(configuredHouseRules).toEqual(Object.keys(expectedProblems).sort());
    expect(fixtureFiles).toEqual([...configuredHouseRules.map(fixtureFor), `${fixturesDir}/valid.yaml`].sort());
  });

  it('makes every house rule an error', () => {
    for (const rule of configuredHouseRules) {
      expect((config.rules[rule] as { severity?: string }).severity, rule).toBe('error');
    }
  });
});

describe('valid.yaml', () => {
  it('breaks no house rule', () => {
    const houseProblems = reportFor(`${fixturesDir}/valid.yaml`).problems.filter((p) => isHouseRule(p.ruleId));
    expect(lines(houseProblems)).toEqual([]);
  });

  it('breaks no other rule either (its $refs resolve, its examples validate)', () => {
    expect(lines(reportFor(`${fixturesDir}/valid.yaml`).problems)).toEqual([]);
  });
});

describe.each(Object.entries(expectedProblems))('%s', (rule, count) => {
  const file = fixtureFor(rule);

  it(`fires ${count} time(s) on ${path.basename(file)}, where the defects are`, () => {
    const problems = reportFor(file).problems.filter((p) => p.ruleId === rule);
    expect(problems, lines(reportFor(file).problems).join('\n')).toHaveLength(count);
    for (const problem of problems) {
      expect(problem.severity).toBe('error');
      expect(problem.location[0]?.source.ref).toBe(file);
    }
  });

  it('is the only house rule the fixture breaks', () => {
    const others = reportFor(file).problems.filter((p) => isHouseRule(p.ruleId) && p.ruleId !== rule);
    expect(lines(others)).toEqual([]);
  });

  it('has nothing unresolved (the fixture reaches the real components)', () => {
    const unresolved = reportFor(file).problems.filter((p) => p.ruleId === 'no-unresolved-refs');
    expect(lines(unresolved)).toEqual([]);
  });
});
