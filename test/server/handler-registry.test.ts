// Start-up fails when the handlers and the contract disagree, in both directions.
import { describe, expect, test } from 'vitest';
import { indexContract, loadContract } from '../../src/contract/operations.ts';
import { HandlerRegistryError } from '../../src/http/routes.ts';
import { startTestServer } from '../support/server.ts';

function withoutOperation(operationPath: string, method: string) {
  const document = structuredClone(loadContract().document) as { paths: Record<string, Record<string, unknown>> };
  delete document.paths[operationPath]![method];
  return indexContract(document);
}

function withExtraOperation() {
  const document = structuredClone(loadContract().document) as { paths: Record<string, Record<string, unknown>> };
  document.paths['/v1/workflows/{workflow_id}/archive'] = {
    post: { operationId: 'archiveWorkflow', security: [], responses: { '200': { description: 'ok' } } },
  };
  return indexContract(document);
}

describe('handler registry', () => {
  test('the real contract and handlers agree: the server starts', async () => {
    const server = await startTestServer();
    await server.close();
  });

  test('a handler without an operation in the contract stops start-up', async () => {
    await expect(
      startTestServer({ contract: withoutOperation('/v1/workflows/{workflow_id}', 'delete') }),
    ).rejects.toThrow(
      new HandlerRegistryError(
        'The handlers do not match the contract: handlers without an operation in the contract: deleteWorkflow',
      ),
    );
  });

  test('an operation without a handler stops start-up', async () => {
    await expect(startTestServer({ contract: withExtraOperation() })).rejects.toThrow(
      new HandlerRegistryError('The handlers do not match the contract: operations without a handler: archiveWorkflow'),
    );
  });
});
