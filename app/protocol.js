'use strict';
// The names, limits and settings shared with the worker service and the browser, read from the
// files that define them once (worker/protocol.json, worker/settings.json). The browser gets
// them from GET /api/protocol.
const PROTOCOL = require('../worker/protocol.json');
const { settings: SETTINGS, sweep_values: SWEEP_VALUES, mode_defaults: MODES } = require('../worker/settings.json');

// What each mode (stylize, synthesis) changes from the defaults, without the file's notes.
const MODE_DEFAULTS = Object.fromEntries(Object.entries(MODES || {}).filter(([mode]) => !mode.startsWith('_')));

const UPLOAD_BYTES = PROTOCOL.limits.upload_mb * 2 ** 20;

// Names as protocol.json spells them: WORKER.up is 'up'; a misspelt WORKER.upp throws instead
// of comparing false for ever.
const names = (what, list) => new Proxy({}, {
  get(_, name) {
    if (typeof name !== 'string') return undefined;
    if (!list.includes(name)) throw new Error(`${what} has no '${name}' (worker/protocol.json)`);
    return name;
  },
});

module.exports = {
  COMMANDS: PROTOCOL.commands,
  // The HTTP status for each kind of refused command.
  ERROR_STATUS: PROTOCOL.errors,
  EXPORT_FORMATS: PROTOCOL.export_formats,
  UPLOAD_BYTES,
  // The largest socket.io message: an upload with its framing.
  MESSAGE_BYTES: PROTOCOL.limits.message_mb * 2 ** 20,
  JOB_ID_HEX: PROTOCOL.limits.job_id_hex,
  STATE: names('a run state', [...PROTOCOL.states.active, ...PROTOCOL.states.ended]),
  WORKER: names('the worker status', PROTOCOL.worker_states),
  MESSAGE: names('socket.io', Object.keys(PROTOCOL.messages)),
  RUN_ID: new RegExp(PROTOCOL.limits.run_id),
  STOP_TIMEOUT_S: PROTOCOL.limits.stop_timeout_s,
  SYNTHESIZE: { side: PROTOCOL.limits.synthesize_side, count: PROTOCOL.limits.synthesize_count },
  // What the browser needs: the settings for the wizard (and sweeps) and each mode's defaults, the
  // limits, state names, picture extensions, export formats and socket.io messages.
  forBrowser: {
    settings: SETTINGS,
    sweep_values: SWEEP_VALUES,
    mode_defaults: MODE_DEFAULTS,
    limits: PROTOCOL.limits,
    stylize_defaults: PROTOCOL.stylize_defaults,
    states: PROTOCOL.states,
    worker_states: PROTOCOL.worker_states,
    image_extensions: PROTOCOL.image_extensions,
    export_formats: PROTOCOL.export_formats,
    messages: PROTOCOL.messages,
  },
};
