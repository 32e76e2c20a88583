'use strict';
// POST /api/datasets/scan {path}: what a folder holds, thumbnails as data: URLs.
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');

function datasetsRouter(worker) {
  const router = express.Router();
  router.post('/scan', express.json({ limit: '64kb' }), async (req, res) => {
    const folder = req.body?.path;
    if (typeof folder !== 'string' || !folder.trim()) throw new HttpError(400, 'send JSON {path: a folder of photos}');
    // A large folder takes a while to check photo by photo.
    const scan = await ask(worker, 'scan_dataset', { path: folder });
    scan.thumbnails = (scan.thumbnails || []).map((b) => `data:image/jpeg;base64,${Buffer.from(b).toString('base64')}`);
    res.json(scan);
  });
  return router;
}

module.exports = { datasetsRouter };
