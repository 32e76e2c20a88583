'use strict';
// POST /api/stylize?run=&checkpoint=&noise=&seed=&size= with a raw image body: a PNG back.
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');
const { isRunId, isSafeName } = require('../ids');
const { rawImage } = require('./raw-image');

const NUMBER = /^-?\d+(\.\d+)?$/;
const INTEGER = /^\d{1,9}$/;

function stylizeRouter(worker) {
  const router = express.Router();
  router.post('/', ...rawImage, async (req, res) => {
    const payload = { run: req.query.run, image: req.body };
    const param = (name, pattern, what) => {
      const value = req.query[name];
      if (value === undefined || value === '') return undefined;
      if (typeof value !== 'string' || !pattern.test(value)) throw new HttpError(400, `${name} must be ${what}`);
      return value;
    };
    if (!isRunId(payload.run)) throw new HttpError(400, 'run must be a run id');
    const checkpoint = req.query.checkpoint;
    if (checkpoint !== undefined && checkpoint !== '') {
      // a checkpoint file name, or its path in the run folder
      const name = typeof checkpoint === 'string' ? checkpoint.replace(/^checkpoints\//, '') : null;
      if (!isSafeName(name)) throw new HttpError(400, 'checkpoint must be a checkpoint file of the run');
      payload.checkpoint = name;
    }
    const noise = param('noise', NUMBER, 'a number');
    if (noise !== undefined) {
      if (Number(noise) < 0) throw new HttpError(400, 'noise must be 0 or more');
      payload.noise = Number(noise);
    }
    const seed = param('seed', INTEGER, 'a whole number');
    if (seed !== undefined) payload.seed = Number(seed);
    // its bounds are checked by the service (protocol.json stylize_size), for every caller
    const size = param('size', INTEGER, 'a size in pixels');
    if (size !== undefined) payload.size = Number(size);
    const out = await ask(worker, 'stylize', payload);
    res.set({
      'Content-Type': 'image/png',
      'X-Image-Width': String(out.width),
      'X-Image-Height': String(out.height),
      'X-Stylize-Ms': String(out.ms),
    });
    res.send(Buffer.from(out.image));
  });
  return router;
}

module.exports = { stylizeRouter };
