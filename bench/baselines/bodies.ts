// The JSON bodies the baselines serve: captured from our server at the start of
// the run (GET by id, list of 20, POST's 201), so every server sends the same bytes.
import { readFileSync } from 'node:fs';

export interface Bodies {
  get: unknown;
  list: unknown;
  created: unknown;
}

export function loadBodies(): { bodies: Bodies; port: number } {
  const file = process.env.BENCH_BODIES;
  const port = Number(process.env.PORT);
  if (!file || !Number.isInteger(port)) throw new Error('BENCH_BODIES and PORT are required');
  return { bodies: JSON.parse(readFileSync(file, 'utf8')) as Bodies, port };
}
