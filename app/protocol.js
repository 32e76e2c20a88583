'use strict';
// The names, limits and settings shared with the worker service and the browser, read from the
// files that define them once (worker/protocol.json, worker/settings.json). The browser gets
// them from GET /api/protocol.
const PROTOCOL = require('../worker/protocol.json');
const { settings: SETTINGS, sweep_values: SWEEP_VALUES } = require('../worker/settings.json');

const UPLOAD_BYTES = PROTOCOL.limits.upload_mb * 2 ** 20;

module.exports = {
  COMMANDS: PROTOCOL.commands,
  // The HTTP status for each kind of refused command.
  ERROR_STATUS: PROTOCOL.errors,
  EXPORT_FORMATS: PROTOCOL.export_formats,
  UPLOAD_BYTES,
  RUN_ID: new RegExp(PROTOCOL.limits.run_id),
  STOP_TIMEOUT_S: PROTOCOL.limits.stop_timeout_s,
  // What the browser needs: the settings for the wizard (and sweeps), the limits and the state groups.
  forBrowser: { settings: SETTINGS, sweep_values: SWEEP_VALUES, limits: PROTOCOL.limits, states: PROTOCOL.states },
};
