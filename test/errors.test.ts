// src/errors.ts mirrors the contract's error catalogue; they must never differ.
import { expect, test } from 'vitest';
import { loadContract } from '../src/contract/operations.ts';
import { ApiError, ERROR_CATALOGUE, type ErrorCode } from '../src/errors.ts';

test('ERROR_CATALOGUE equals the contract x-error-catalogue', () => {
  const schemas = (loadContract().document.components as { schemas: Record<string, Record<string, unknown>> }).schemas;
  const contract = schemas.ErrorCode!['x-error-catalogue'];
  expect(ERROR_CATALOGUE).toEqual(contract);
});

test('an ApiError takes its type and status from the catalogue; 5xx messages are not exposed', () => {
  const error = new ApiError('idempotency_conflict', 'used before');
  expect([error.type, error.status, error.expose]).toEqual(['conflict_error', 409, true]);
  const internal = new ApiError('internal_error' satisfies ErrorCode, 'db exploded at /var/lib/x');
  expect([internal.status, internal.expose]).toEqual([500, false]);
});
