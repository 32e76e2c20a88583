'use strict';
// The Express app factory: tests build an app without listening, server.js listens.
const path = require('node:path');
const express = require('express');

const ROOT = path.resolve(__dirname, '..');

function createApp() {
  const app = express();
  app.disable('x-powered-by');
  app.get('/api/health', (req, res) => res.json({ ok: true }));
  app.use(express.static(path.join(ROOT, 'static')));
  return app;
}

module.exports = { createApp, ROOT };
