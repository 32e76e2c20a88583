'use strict';
// GET /api/health (Node is up; how the worker is), GET /api/device, GET /api/protocol (the
// settings, limits and states the browser shares with the trainer).
const express = require('express');
const { ask } = require('./ask');
const { forBrowser } = require('../protocol');

function healthRouter(worker) {
  const router = express.Router();
  router.get('/health', (req, res) => res.json({ ok: true, worker: worker.status }));
  router.get('/protocol', (req, res) => res.json(forBrowser));
  router.get('/device', async (req, res) => res.json(await ask(worker, 'device', {})));
  return router;
}

module.exports = { healthRouter };
