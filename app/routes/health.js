'use strict';
// GET /api/health (Node is up; how the worker is), GET /api/device.
const express = require('express');
const { ask } = require('./ask');

function healthRouter(worker) {
  const router = express.Router();
  router.get('/health', (req, res) => res.json({ ok: true, worker: worker.status }));
  router.get('/device', async (req, res) => res.json(await ask(worker, 'device', {})));
  return router;
}

module.exports = { healthRouter };
