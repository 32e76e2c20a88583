'use strict';
// /api/videos: stylize a video in the background. POST ?run=&checkpoint=&noise=&seed= with the
// video as the raw body (X-Filename: its name) starts a job; GET /:job is its progress (the
// browser polls it); GET /:job/file is the stylized MP4.
const express = require('express');
const { ask } = require('./ask');
const { HttpError } = require('../http-error');
const { isRunId, isSafeName, uploadName } = require('../ids');
const { proxyFile } = require('../proxy');
const { JOB_ID_HEX, UPLOAD_BYTES } = require('../protocol');

// MP4 and QuickTime ('ftyp' at 4), Matroska and WebM (EBML), AVI (RIFF....AVI ).
function isVideo(buf) {
  return buf.length >= 12 && (buf.toString('latin1', 4, 8) === 'ftyp'
    || buf.readUInt32BE(0) === 0x1a45dfa3
    || (buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'AVI '));
}

const JOB = new RegExp(`^[0-9a-f]{${JOB_ID_HEX}}$`);

function videosRouter(worker) {
  const router = express.Router();
  router.param('job', (req, res, next, job) => next(JOB.test(job) ? undefined : new HttpError(400, 'not a video job id')));

  router.post('/', express.raw({ type: () => true, limit: UPLOAD_BYTES }), async (req, res) => {
    if (!Buffer.isBuffer(req.body) || !req.body.length) throw new HttpError(400, 'send the video file as the request body');
    if (!isVideo(req.body)) throw new HttpError(415, 'not a video: send an MP4, MOV, WebM, MKV or AVI file');
    const { run, checkpoint, noise, seed } = req.query;
    if (!isRunId(run)) throw new HttpError(400, 'run must be a run id');
    if (checkpoint !== undefined && checkpoint !== '' && !isSafeName(checkpoint)) throw new HttpError(400, 'checkpoint must be a checkpoint file of the run');
    if (noise !== undefined && !(Number(noise) >= 0)) throw new HttpError(400, 'noise must be a number, 0 or more');
    if (seed !== undefined && !/^\d{1,9}$/.test(seed)) throw new HttpError(400, 'seed must be a whole number');
    const filename = uploadName(req.get('X-Filename'));
    const out = await ask(worker, 'stylize_video', {
      run, checkpoint: checkpoint || undefined, noise: noise === undefined ? undefined : Number(noise),
      seed: seed === undefined ? undefined : Number(seed), filename, data: req.body,
    });
    res.status(202).json(out);
  });

  router.get('/:job', async (req, res) => res.json(await ask(worker, 'video_job', { job: req.params.job })));

  router.get('/:job/file', async (req, res) => {
    const { job } = await ask(worker, 'video_job', { job: req.params.job });
    await proxyFile(worker, `/videos/${req.params.job}`, res, { download: job.file });
  });
  return router;
}

module.exports = { videosRouter };
