// Two servers judging the same requests on the real contract, for the tests of our
// shortcuts around express-openapi-validator (parameters-only-check, body-check):
// the validator alone, as shipped, and our contract-validation stage. Each answers 200
// with what a request carries on after validation (path parameters, query and its
// prototype, body), or 200 with the status and message of the error it raised.
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { Contract } from '../../src/contract/operations.ts';
import { contractValidation, requestsOnlyDocument } from '../../src/http/contract-validation.ts';
import { matchOperation } from '../../src/http/operation-match.ts';
import { requestId } from '../../src/http/request-id.ts';

export type Seen = { status: number; message?: string; params?: unknown; query?: unknown; queryPrototype?: string; body?: unknown };

export interface SideBySide {
  reference: string;
  ours: string;
  close(): void;
}

function capturing(app: Express): void {
  const capture: RequestHandler = (req, res) => {
    const query = req.query as object;
    // req.params is reset by Express at each app.use layer: the validator's path parameters are read where it leaves them.
    const pathParams = (req as { openapi?: { pathParams?: Record<string, string> } }).openapi?.pathParams;
    res.json({ status: 200, params: { ...pathParams }, query: { ...query }, queryPrototype: Object.getPrototypeOf(query) === null ? 'null' : 'Object', body: req.body as unknown } satisfies Seen);
  };
  const failed: ErrorRequestHandler = (error: { status?: number; message?: string }, _req, res, _next) => {
    res.status(200).json({ status: error.status ?? 500, message: error.message } satisfies Seen);
  };
  app.use(capture);
  app.use(failed);
}

/** `parseBodies`: both servers parse JSON and form bodies first, with the production parsers' settings (src/http/body-parsers.ts). */
export async function validatorSideBySide(contract: Contract, options: { parseBodies: boolean }): Promise<SideBySide> {
  const parsers: RequestHandler[] = options.parseBodies
    ? [
        express.json({ strict: true, type: ['application/json', 'application/*+json'] }),
        express.urlencoded({ extended: false, parameterLimit: 100, type: 'application/x-www-form-urlencoded' }),
      ]
    : [];
  const validatorOnly = express();
  validatorOnly.use(
    ...parsers,
    OpenApiValidator.middleware({
      apiSpec: requestsOnlyDocument(contract) as never,
      validateApiSpec: false,
      validateRequests: { allowUnknownQueryParameters: false, removeAdditional: false },
      validateResponses: false,
      validateSecurity: false,
      fileUploader: false,
      ignoreUndocumented: false,
    }),
  );
  capturing(validatorOnly);
  const ourStage = express();
  ourStage.use(...parsers, requestId(() => Date.now()), matchOperation(contract), contractValidation(contract, { validateResponses: false }));
  capturing(ourStage);
  const servers = [validatorOnly.listen(0, '127.0.0.1'), ourStage.listen(0, '127.0.0.1')];
  await Promise.all(servers.map((server) => new Promise((resolve) => server.once('listening', resolve))));
  const [reference, ours] = servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`) as [string, string];
  return { reference, ours, close: () => servers.forEach((server) => server.close()) };
}
