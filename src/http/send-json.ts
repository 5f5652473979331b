// Sends a JSON body. Express's res.json also looks up the app's JSON settings, parses
// and re-formats the Content-Type to add the charset, and checks conditional-request
// freshness; for our answers (no ETag, no Last-Modified, no JSON settings) that
// always ends in the same status, the same two headers and JSON.stringify's text, so
// they are written directly. Express's res.json is still used whenever its extra work
// could matter: someone wrapped it (the contract validator's response check, in
// tests and wherever VALIDATE_RESPONSES is on), a Content-Type is already set, the
// request is conditional (Express may answer 304), or it is a HEAD request.
import type { Request, Response } from 'express';
import { jsonText } from '../json-text.ts';

export function sendJson(req: Request, res: Response, status: number, body: unknown): void {
  res.statusCode = status;
  const wrapped = Object.hasOwn(res, 'json');
  const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
  if (
    wrapped ||
    conditional ||
    req.method === 'HEAD' ||
    res.getHeader('Content-Type') !== undefined ||
    body === undefined
  ) {
    res.json(body);
    return;
  }
  // JSON.stringify's text, with the text of objects that carry their own copied in.
  const text = jsonText(body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
