// Reads config/rate-limits.yaml (or another file) once at start-up.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { RateLimitConfigError } from './config-error.ts';
import { parseRateLimitConfig } from './parse-config.ts';
import type { RateLimitConfig } from './policy.ts';

export function loadRateLimitConfig(path: string): RateLimitConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RateLimitConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let document: unknown;
  try {
    // uniqueKeys rejects a policy written twice, where the second would silently win.
    document = parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    throw new RateLimitConfigError(path, [`not valid YAML: ${(error as Error).message}`]);
  }
  return parseRateLimitConfig(document, path);
}
