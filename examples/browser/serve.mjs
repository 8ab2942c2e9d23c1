#!/usr/bin/env node
// Serves the browser example and the built client library on http://127.0.0.1:8000 (or the port
// given as the first argument):
//
//   npm run build && node examples/browser/serve.mjs
//
// then open the printed URL in two tabs (or one tab and examples/python/peer.py).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const files = {
  '/': [join(here, 'index.html'), 'text/html'],
  '/app.js': [join(here, 'app.js'), 'text/javascript'],
};
const port = Number(process.argv[2] ?? 8000);

const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const module = /^\/client\/([\w-]+\.js)$/.exec(path);
  const [file, type] = files[path] ?? (module ? [join(here, '..', '..', 'dist', 'client', module[1]), 'text/javascript'] : []);
  try {
    if (!file) throw new Error('not found');
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(await readFile(file));
  } catch {
    res.writeHead(404).end('not found (for /client/*.js, run `npm run build` first)');
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`open http://127.0.0.1:${server.address().port}/?signal=ws://127.0.0.1:8080&room=demo`);
});
