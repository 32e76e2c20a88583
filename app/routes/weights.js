'use strict';
// GET /api/vgg-weights?spec=imagenet|random|PATH: what a run's VGG-19 weights setting will get
// (found in the torch cache, to be downloaded, not to be had here; a file that loads or why not),
// asked by the wizard before a run starts.
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');

function weightsRouter(worker) {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const spec = req.query.spec ?? 'imagenet';
    if (typeof spec !== 'string' || !spec.trim() || spec.length > 4096) throw new HttpError(400, 'give ?spec=imagenet, random or a file path');
    // A weights file is loaded to check it (548 MB: a few seconds); a download check waits 3 s at most.
    res.json(await ask(worker, 'vgg_weights', { spec: spec.trim() }));
  });
  return router;
}

module.exports = { weightsRouter };
