// One scenario per operation, and no scenario for an operation that does not exist:
// the contract suite only proves what its scenarios exercise.
import { describe, expect, test } from 'vitest';
import { loadContractDocument } from '../support/contract-document.ts';
import { scenarios } from './scenarios/index.ts';

describe('contract scenarios cover the contract', () => {
  const contract = loadContractDocument();
  const operationIds = contract.operations().map((operation) => operation.operationId);
  const named = scenarios.map((scenario) => scenario.operationId as string);

  test('every operation has a scenario', () => {
    const missing = contract
      .operations()
      .filter((operation) => !named.includes(operation.operationId))
      .map((operation) => `${operation.operationId} (${operation.method.toUpperCase()} ${operation.path})`);
    expect(missing, `operations of ${contract.file} without a scenario in test/contract/scenarios/`).toEqual([]);
  });

  test('every scenario names an operation of the contract', () => {
    const unknown = named.filter((operationId) => !operationIds.includes(operationId));
    expect(unknown, `scenarios naming no operation of ${contract.file}`).toEqual([]);
  });

  test('no operation has two scenarios', () => {
    const twice = [...new Set(named.filter((operationId, index) => named.indexOf(operationId) !== index))];
    expect(twice, 'operations with more than one scenario (put extra cases in `invalid`)').toEqual([]);
  });
});
