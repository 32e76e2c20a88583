'use strict';
// A worker command from an HTTP route: its ack, or the right HTTP error.
const { HttpError } = require('../http-error');
const { WorkerUnavailable, WorkerTimeout } = require('../worker');
const { ERROR_STATUS } = require('../protocol');

// How long a route waits for a slow command before it answers 504 (the others: the worker's
// default): a large image or sample on a CPU, an export checked in its runtime, a folder of
// 80,000 photos scanned, a VGG file loaded.
const SLOW_COMMANDS_S = {
  scan_dataset: 300, stylize: 300, synthesize: 300, export_model: 600,
  stylize_video: 120, vgg_weights: 120, save_texture: 60,
};

// A refusal ({ok: false, kind, error}) answers with its kind's status and the service's message,
// which is for the user.
async function ask(worker, name, payload) {
  let ack;
  try {
    const seconds = SLOW_COMMANDS_S[name];
    ack = await worker.command(name, payload, seconds ? seconds * 1000 : undefined);
  } catch (err) {
    if (err instanceof WorkerUnavailable) throw new HttpError(503, err.message);
    if (err instanceof WorkerTimeout) throw new HttpError(504, err.message);
    throw err;
  }
  if (!ack.ok) throw new HttpError(ERROR_STATUS[ack.kind] ?? 500, String(ack.error || `${name} failed`));
  const { ok, ...rest } = ack;
  return rest;
}

module.exports = { ask };
