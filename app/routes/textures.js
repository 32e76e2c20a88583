'use strict';
// /api/textures: list, one texture's image, upload (raw image body, X-Filename header).
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');
const { isSafeName, uploadName } = require('../ids');
const { proxyFile } = require('../proxy');
const { rawImage } = require('./raw-image');

function texturesRouter(worker) {
  const router = express.Router();

  router.get('/', async (req, res) => res.json(await ask(worker, 'list_textures', {})));

  router.get('/:name/image', async (req, res) => {
    if (!isSafeName(req.params.name)) throw new HttpError(400, 'not a texture name');
    await proxyFile(worker, `/textures/${encodeURIComponent(req.params.name)}`, res);
  });

  router.post('/', ...rawImage, async (req, res) => {
    const filename = uploadName(req.get('X-Filename'));
    const result = await ask(worker, 'save_texture', { filename, data: req.body });
    res.status(201).json(result);
  });

  return router;
}

module.exports = { texturesRouter };
