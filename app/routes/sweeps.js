'use strict';
// /api/sweeps: start a sweep (one run per value of one setting, everything else equal). Its runs
// are ordinary runs (/api/runs), grouped by their RunInfo's `sweep`.
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');

function sweepsRouter(worker) {
  const router = express.Router();
  router.post('/', express.json({ limit: '1mb' }), async (req, res) => {
    const { config, sweep } = req.body || {};
    if (!config || typeof config !== 'object' || Array.isArray(config)) {
      // data_dir is the worker's to require: a texture-synthesis config ({mode: 'synthesis'}) has none.
      throw new HttpError(400, 'send JSON {config: {data_dir, texture, ...} or {mode: \'synthesis\', texture, ...}, sweep: {setting, values, name?}}');
    }
    if (!sweep || typeof sweep.setting !== 'string' || !Array.isArray(sweep.values)) {
      throw new HttpError(400, 'sweep must be {setting, values: [...], name?}');
    }
    const { setting, values, name } = sweep;
    res.status(201).json(await ask(worker, 'start_sweep', { config, setting, values, name }));
  });
  return router;
}

module.exports = { sweepsRouter };
