// The contract's request examples (scripts/request-examples.ts) of the bundled contract tests use.
import { exampleRequests as fromDocument, type ExampleRequest } from '../../scripts/request-examples.ts';
import { loadContractDocument, type ContractDocument } from './contract-document.ts';

export { exampleBody, examplePath, substituteDeep, type ExampleRequest } from '../../scripts/request-examples.ts';

export function exampleRequests(contract: ContractDocument = loadContractDocument()): ExampleRequest[] {
  return fromDocument(contract.raw);
}
