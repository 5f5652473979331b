// Baseline: bare Express 5 on the routes of the benchmark, answering the same JSON
// bodies as our server, with nothing else (no validation, auth, limits or logs):
// what "Express itself" costs, to which our server is compared.
import express from 'express';
import { loadBodies } from './bodies.ts';

const { bodies, port } = loadBodies();
const app = express();
app.use(express.json());
app.get('/v1/workflows/:workflow_id', (_req, res) => {
  res.json(bodies.get);
});
app.get('/v1/workflows', (_req, res) => {
  res.json(bodies.list);
});
app.post('/v1/workflows', (req, res) => {
  if (typeof req.body !== 'object' || req.body === null) {
    res.status(400).end();
    return;
  }
  res.status(201).json(bodies.created);
});
app.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
