'use strict';
// /api/runs: list, create, one run, stop, continue, delete, its events, its files.
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');
const { isSafeName, safeSegments } = require('../ids');
const { proxyFile } = require('../proxy');

function runsRouter(worker) {
  const router = express.Router();

  router.param('id', (req, res, next, id) => {
    next(isSafeName(id) ? undefined : new HttpError(400, 'not a run id'));
  });

  router.get('/', async (req, res) => res.json(await ask(worker, 'list_runs', {})));

  router.post('/', express.json({ limit: '1mb' }), async (req, res) => {
    const config = req.body?.config;
    if (!config || typeof config !== 'object' || Array.isArray(config)) {
      throw new HttpError(400, 'send JSON {config: {data_dir, texture, ...}}');
    }
    for (const key of ['data_dir', 'texture']) {
      if (typeof config[key] !== 'string' || !config[key].trim()) throw new HttpError(400, `config.${key} is required`);
    }
    res.status(201).json(await ask(worker, 'start_run', { config }));
  });

  // The only way get_run is refused for a well-formed id is that there is no such run.
  const getRun = (id) => ask(worker, 'get_run', { run: id }, { refused: 404 });

  router.get('/:id', async (req, res) => res.json(await getRun(req.params.id)));

  router.post('/:id/stop', async (req, res) => {
    await getRun(req.params.id);
    res.json(await ask(worker, 'stop_run', { run: req.params.id }, { refused: 409 }));
  });

  router.delete('/:id', async (req, res) => {
    await getRun(req.params.id);
    await ask(worker, 'delete_run', { run: req.params.id }, { refused: 409 });
    res.status(204).end();
  });

  // A new run from one of this (ended) run's checkpoints: {iteration?, iterations?}.
  router.post('/:id/continue', express.json({ limit: '16kb' }), async (req, res) => {
    await getRun(req.params.id);
    const { iteration, iterations } = req.body || {};
    for (const [key, value] of Object.entries({ iteration, iterations })) {
      if (value !== undefined && !Number.isSafeInteger(value)) throw new HttpError(400, `${key} must be a whole number`);
    }
    res.status(201).json(await ask(worker, 'continue_run', { run: req.params.id, iteration, iterations }, { refused: 409 }));
  });

  router.get('/:id/events', async (req, res) => {
    const after = req.query.after ?? '0';
    if (typeof after !== 'string' || !/^\d{1,15}$/.test(after)) {
      throw new HttpError(400, 'after must be the last seq seen (an integer, 0 for all)');
    }
    res.json(await ask(worker, 'history', { run: req.params.id, after: Number(after) }, { refused: 404 }));
  });

  router.get('/:id/files/*path', async (req, res) => {
    // req.url is still percent-encoded: each segment is decoded and checked here, so neither
    // '..' nor an encoded '/' can reach the worker.
    const raw = req.url.split('?')[0].match(/^\/[^/]+\/files\/(.*)$/);
    const segments = raw && safeSegments(raw[1]);
    if (!segments) throw new HttpError(400, 'not a file of the run');
    const id = req.params.id;
    const name = segments.at(-1);
    await proxyFile(worker, `/files/${id}/${segments.map(encodeURIComponent).join('/')}`, res, {
      download: name.endsWith('.pth') ? `${id}-${name}` : undefined,
    });
  });

  return router;
}

module.exports = { runsRouter };
