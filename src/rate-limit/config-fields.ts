// Field readers for the policy file that record a precise, path-qualified issue instead of
// throwing, so one run of the loader reports every mistake in the file.

import { MAX_WINDOW_SECONDS, parseDurationSeconds } from './duration.ts';

export type Fields = Readonly<Record<string, unknown>>;

export class IssueLog {
  readonly issues: string[] = [];

  add(path: string, message: string): void {
    this.issues.push(`${path === '' ? '(top level)' : path}: ${message}`);
  }
}

export function join(path: string, field: string | number): string {
  if (typeof field === 'number') return `${path}[${field}]`;
  return path === '' ? field : `${path}.${field}`;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${value as number | boolean | bigint}`;
}

/** A mapping with exactly the `expected` fields (all required): unknown fields are typos. */
export function readMapping(value: unknown, path: string, expected: readonly string[], log: IssueLog): Fields | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    log.add(path, `must be a mapping with fields ${expected.join(', ')}, got ${describeValue(value)}`);
    return null;
  }
  const fields = value as Fields;
  for (const field of Object.keys(fields)) {
    if (!expected.includes(field)) {
      log.add(join(path, field), `unknown field (expected one of ${expected.join(', ')})`);
    }
  }
  for (const field of expected) {
    if (!(field in fields)) log.add(path, `missing field "${field}"`);
  }
  return fields;
}

export function readPositiveInteger(value: unknown, path: string, max: number, log: IssueLog): number | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    log.add(path, `must be a whole number from 1 to ${max}, got ${describeValue(value)}`);
    return null;
  }
  return value;
}

export function readWindowSeconds(value: unknown, path: string, log: IssueLog): number | null {
  const seconds = typeof value === 'string' ? parseDurationSeconds(value) : null;
  if (seconds === null) {
    log.add(path, `must be a duration such as "30s", "1m", "15m", "1h" or "1d", got ${describeValue(value)}`);
    return null;
  }
  if (seconds > MAX_WINDOW_SECONDS) {
    log.add(path, `must be at most 7d, got ${describeValue(value)}`);
    return null;
  }
  return seconds;
}
