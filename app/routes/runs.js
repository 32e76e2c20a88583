'use strict';
// /api/runs: list, create, one run, name it, stop, continue, delete, choose its model, export it, its events, its
// files; new samples of a texture-synthesis run (synthesize.js).
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');
const { isRunId, isSafeName, safeSegments } = require('../ids');
const { EXPORT_FORMATS } = require('../protocol');
const { proxyFile } = require('../proxy');
const { synthesize } = require('./synthesize');

function runsRouter(worker) {
  const router = express.Router();

  router.param('id', (req, res, next, id) => {
    next(isRunId(id) ? undefined : new HttpError(400, 'not a run id'));
  });

  router.get('/', async (req, res) => res.json(await ask(worker, 'list_runs', {})));

  router.post('/', express.json({ limit: '1mb' }), async (req, res) => {
    const config = req.body?.config;
    if (!config || typeof config !== 'object' || Array.isArray(config)) {
      throw new HttpError(400, 'send JSON {config: {data_dir, texture, ...}} (or {mode: \'synthesis\', texture, ...})');
    }
    // Texture synthesis learns from the texture alone: no photos (the worker refuses a data_dir).
    const required = config.mode === 'synthesis' ? ['texture'] : ['data_dir', 'texture'];
    for (const key of required) {
      if (typeof config[key] !== 'string' || !config[key].trim()) throw new HttpError(400, `config.${key} is required`);
    }
    res.status(201).json(await ask(worker, 'start_run', { config }));
  });

  router.get('/:id', async (req, res) => res.json(await ask(worker, 'get_run', { run: req.params.id })));

  router.post('/:id/stop', async (req, res) => res.json(await ask(worker, 'stop_run', { run: req.params.id })));

  // The run's name, chosen by the user: {name} ('' removes it); the worker keeps it in meta.json.
  router.put('/:id/name', express.json({ limit: '16kb' }), async (req, res) => {
    const name = req.body?.name;
    if (typeof name !== 'string') throw new HttpError(400, 'send JSON {name}: the run\'s name (\'\' for none)');
    res.json(await ask(worker, 'rename_run', { run: req.params.id, name }));
  });

  router.delete('/:id', async (req, res) => {
    await ask(worker, 'delete_run', { run: req.params.id });
    res.status(204).end();
  });

  // A new run from one of this (ended) run's checkpoints: {iteration?, iterations?}.
  router.post('/:id/continue', express.json({ limit: '16kb' }), async (req, res) => {
    const { iteration, iterations } = req.body || {};
    for (const [key, value] of Object.entries({ iteration, iterations })) {
      if (value !== undefined && !Number.isSafeInteger(value)) throw new HttpError(400, `${key} must be a whole number`);
    }
    res.status(201).json(await ask(worker, 'continue_run', { run: req.params.id, iteration, iterations }));
  });

  // "Use this one": {iteration} -> that checkpoint becomes the run's model.pth (the old one kept).
  router.post('/:id/model', express.json({ limit: '16kb' }), async (req, res) => {
    const iteration = req.body?.iteration;
    if (!Number.isSafeInteger(iteration)) throw new HttpError(400, 'send JSON {iteration}: the checkpoint to use');
    res.json(await ask(worker, 'use_checkpoint', { run: req.params.id, iteration }));
  });

  // New samples of a texture-synthesis model: {checkpoint?, width, height, seed, count, tile}.
  router.post('/:id/synthesize', express.json({ limit: '16kb' }), synthesize(worker));

  // The model (or ?checkpoint=iter_N.pth) exported for other runtimes: ?format= one of protocol.json export_formats.
  router.get('/:id/export', async (req, res) => {
    const { format, checkpoint } = req.query;
    if (!Object.hasOwn(EXPORT_FORMATS, format)) {
      throw new HttpError(400, `format must be one of ${Object.keys(EXPORT_FORMATS).join(', ')}`);
    }
    if (checkpoint !== undefined && !isSafeName(checkpoint)) throw new HttpError(400, 'checkpoint must be a checkpoint file of the run');
    // 10 minutes: a pt2 export traces the network and loads the program back to check it, which
    // took 5 minutes on a shared 2-core machine under load (README, Export).
    const out = await ask(worker, 'export_model', { run: req.params.id, format, checkpoint });
    const stem = checkpoint ? checkpoint.replace(/\.pth$/, '') : 'model';
    res.attachment(`${req.params.id}-${stem}${EXPORT_FORMATS[format]}`);
    res.type('application/octet-stream').send(Buffer.from(out.data));
  });

  router.get('/:id/events', async (req, res) => {
    const after = req.query.after ?? '0';
    if (typeof after !== 'string' || !/^\d{1,15}$/.test(after)) {
      throw new HttpError(400, 'after must be the last seq seen (an integer, 0 for all)');
    }
    res.json(await ask(worker, 'history', { run: req.params.id, after: Number(after) }));
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
