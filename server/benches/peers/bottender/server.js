// Bottender 1.5.5 peer for server/benches/webhook.rs. Mirrors what
// `bottender start` does (bottender/dist/cli/providers/sh/start.js): a
// production Server behind express + body-parser keeping the raw body for
// the signature check. Differences: binds 127.0.0.1, adds GET /_count, and
// prints "listening on PORT" for the Rust bench to wait on.
//
// Env: PORT, APP_SECRET (required), ACCESS_TOKEN, VERIFY_TOKEN, PAGE_ID.
process.env.NODE_ENV = process.env.NODE_ENV || 'production';
// bottender resolves bottender.config.js and index.js from the cwd.
process.chdir(__dirname);

if (!process.env.APP_SECRET) {
  console.error('APP_SECRET is required');
  process.exit(2);
}

const bodyParser = require('body-parser');
const express = require('express');
const { bottender } = require('bottender');
const { received } = require('./index.js');

const port = Number(process.env.PORT || 5000);

async function main() {
  const app = bottender({ dev: false });
  const handle = app.getRequestHandler();
  await app.prepare();

  const server = express();
  const verify = (req, _res, buf) => {
    req.rawBody = buf.toString();
  };
  server.use(bodyParser.json({ verify }));
  server.use(bodyParser.urlencoded({ extended: false, verify }));
  server.get('/_count', (_req, res) => res.type('text').send(String(received.length)));
  server.all('*', (req, res) => handle(req, res));
  server.listen(port, '127.0.0.1', () => {
    console.log(`listening on ${port}`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
