// What the browser shares with the trainer and the worker service (worker/protocol.json and
// worker/settings.json, served as GET /api/protocol): loaded once, before any view is drawn.
let loaded = null;

export function initProtocol(protocol) {
  loaded = protocol;
}

const get = () => {
  if (!loaded) throw new Error('the protocol is not loaded yet (main.js loads it before the views)');
  return loaded;
};

export const settingsSchema = () => get().settings;
export const uploadBytes = () => get().limits.upload_mb * 2 ** 20;
// A Generate request's largest side and sample count.
export const synthesizeLimits = () => ({ side: get().limits.synthesize_side, count: get().limits.synthesize_count });
export const isActive = (state) => get().states.active.includes(state);
export const isEnded = (state) => get().states.ended.includes(state);
export const sweepValueLimits = () => get().sweep_values;
// What each mode (stylize, synthesis) changes from the plain defaults (settings.json mode_defaults).
export const modeDefaultsOf = (mode) => get().mode_defaults?.[mode] || {};
