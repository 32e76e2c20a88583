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
// A stylize request's noise factor and seed when it names none ({noise, seed}).
export const stylizeDefaults = () => get().stylize_defaults;
export const previewPhotos = () => get().limits.preview_photos;
// Picture files a folder or a file picker may offer (['.jpg', ...]).
export const imageExtensions = () => get().image_extensions;
export const exportFormats = () => get().export_formats;

// Names that must be spelled as protocol.json spells them: STATE.running is 'running', and a name
// the protocol does not have (STATE.runing) throws instead of comparing false for ever.
const names = (what, list) => new Proxy({}, {
  get(_, name) {
    if (typeof name !== 'string') return undefined;
    if (!list().includes(name)) throw new Error(`${what} has no '${name}' (worker/protocol.json)`);
    return name;
  },
});
export const STATE = names('a run state', () => [...get().states.active, ...get().states.ended]);
export const WORKER = names('the worker status', () => get().worker_states);
export const MESSAGE = names('socket.io', () => Object.keys(get().messages));
