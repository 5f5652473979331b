// Baseline: raw node:http on the same routes and bodies as bare Express: the
// ceiling of what one Node process serves on this machine.
import http from 'node:http';
import { loadBodies } from './bodies.ts';

const { bodies, port } = loadBodies();
const send = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
};
http
  .createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url === '/v1/workflows') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          send(res, 201, bodies.created);
        } catch {
          send(res, 400, { error: 'invalid json' });
        }
      });
      return;
    }
    if (req.method === 'GET' && url.startsWith('/v1/workflows/')) return send(res, 200, bodies.get);
    if (req.method === 'GET' && (url === '/v1/workflows' || url.startsWith('/v1/workflows?')))
      return send(res, 200, bodies.list);
    send(res, 404, { error: 'not found' });
  })
  .listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
