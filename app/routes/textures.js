'use strict';
// /api/textures: list, one texture's image, upload (raw image body, X-Filename header).
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');
const { isSafeName } = require('../ids');
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
    const result = await ask(worker, 'save_texture', { filename, data: req.body }, { timeoutMs: 60000 });
    res.status(201).json(result);
  });

  return router;
}

// The file's name only (the worker makes the texture name from it). Browsers send it
// percent-encoded, since header values are bytes.
function uploadName(header) {
  if (!header) throw new HttpError(400, 'the X-Filename header (the image file name) is required');
  let name = header;
  try {
    name = decodeURIComponent(header);
  } catch { /* sent as is */ }
  if (name.length > 255 || /[/\\\0]/.test(name) || name === '.' || name === '..') {
    throw new HttpError(400, 'X-Filename must be a plain file name');
  }
  return name;
}

module.exports = { texturesRouter };
