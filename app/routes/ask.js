'use strict';
// A worker command from an HTTP route: its ack, or the right HTTP error.
const { HttpError } = require('../http-error');
const { WorkerUnavailable, WorkerTimeout } = require('../worker');
const { ERROR_STATUS } = require('../protocol');

// A refusal ({ok: false, kind, error}) answers with its kind's status and the service's message,
// which is for the user.
async function ask(worker, name, payload, { timeoutMs } = {}) {
  let ack;
  try {
    ack = await worker.command(name, payload, timeoutMs);
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
