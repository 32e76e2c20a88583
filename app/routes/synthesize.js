'use strict';
// POST /api/runs/:id/synthesize {checkpoint?, width, height, seed, count, tile}: new samples of a
// texture-synthesis run's model, saved in its folder (samples/); the answer names their files, which
// the browser fetches as any run file (GET /api/runs/:id/files/...). The worker checks the sizes
// against its own limits; here, only the shape of the request, so that a bad one never reaches it.
const { ask } = require('./ask');
const { HttpError } = require('../http-error');
const { isSafeName } = require('../ids');
const { SYNTHESIZE } = require('../protocol');

// name -> [min, max] of a whole number (the side and count limits: worker/protocol.json).
const WHOLE = {
  width: [1, SYNTHESIZE.side], height: [1, SYNTHESIZE.side], seed: [0, 2 ** 31 - 1], count: [1, SYNTHESIZE.count], tile: [0, 4],
};

function synthesizeBody(body, run) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'send JSON {width, height, seed?, count?, tile?, checkpoint?}');
  }
  const payload = { run };
  for (const [key, [min, max]] of Object.entries(WHOLE)) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new HttpError(400, `${key} must be a whole number from ${min} to ${max}`);
    }
    payload[key] = value;
  }
  if (payload.tile === 1) throw new HttpError(400, 'tile must be 0 (none) or 2 to 4 (an NxN tiling)');
  const checkpoint = body.checkpoint;
  if (checkpoint !== undefined && checkpoint !== null && checkpoint !== '') {
    // a checkpoint file name, or its path in the run folder
    const name = typeof checkpoint === 'string' ? checkpoint.replace(/^checkpoints\//, '') : null;
    if (!isSafeName(name)) throw new HttpError(400, 'checkpoint must be a checkpoint file of the run');
    payload.checkpoint = name;
  }
  return payload;
}

const synthesize = (worker) => async (req, res) => {
  res.json(await ask(worker, 'synthesize', synthesizeBody(req.body, req.params.id)));
};

module.exports = { synthesize, synthesizeBody };
