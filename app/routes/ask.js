'use strict';
// A worker command from an HTTP route: its ack, or the right HTTP error.
const { HttpError } = require('../http-error');
const { WorkerUnavailable, WorkerTimeout } = require('../worker');

// `refused` is the status for {ok: false} (the service's message is for the user).
async function ask(worker, name, payload, { refused = 400, timeoutMs } = {}) {
  let ack;
  try {
    ack = await worker.command(name, payload, timeoutMs);
  } catch (err) {
    if (err instanceof WorkerUnavailable) throw new HttpError(503, err.message);
    if (err instanceof WorkerTimeout) throw new HttpError(504, err.message);
    throw err;
  }
  if (!ack.ok) throw new HttpError(refused, String(ack.error || `${name} failed`));
  const { ok, ...rest } = ack;
  return rest;
}

module.exports = { ask };
