// The trainer's settings as the wizard shows them: defaults, bounds, words and groups come from
// worker/settings.json (protocol.js); here, the presets (made from each mode's defaults), field
// parsing and time estimates.
import { modeDefaultsOf, settingsSchema, sweepValueLimits } from './protocol.js';

// What a run trains: 'stylize' (photo + noise in) or 'synthesis' (noise alone in, a texture out).
export const MODES = ['stylize', 'synthesis'];
// The wizard's settings that mean nothing in a mode: not shown, not sent, not swept.
const UNUSED = { stylize: ['diversity'], synthesis: ['content_weight', 'balance', 'noise'] };
export const usedIn = (key, mode = 'stylize') => !(UNUSED[mode] || []).includes(key);

// The wizard's settings (those not marked ui: false), built from the schema on first use.
let built = null;
function build() {
  if (built) return built;
  const schema = Object.entries(settingsSchema()).filter(([, spec]) => spec.ui !== false);
  const defaults = Object.freeze(Object.fromEntries(schema.map(([key, spec]) => [key, spec.default])));
  const fields = {};
  for (const [key, spec] of schema) {
    if (spec.type !== 'int' && spec.type !== 'float') continue;
    fields[key] = { label: spec.label, unit: spec.unit, kind: spec.type, min: spec.min, max: spec.max, help: spec.help, optional: spec.default === null };
  }
  const weights = settingsSchema().style_weights;
  fields.style_weight = { label: 'Style weight', kind: 'float', min: weights.min, max: weights.max };
  built = { defaults, fields, layers: weights.labels };
  return built;
}

export const defaults = () => build().defaults;
// A mode's defaults: the plain ones with what settings.json's mode_defaults changes for it.
export function modeDefaults(mode = 'stylize') {
  const plain = build().defaults;
  const changes = Object.entries(modeDefaultsOf(mode)).filter(([key]) => key in plain);
  return Object.freeze({ ...plain, ...Object.fromEntries(changes) });
}

// The settings of a switch of mode: each value left at the old mode's default takes the new
// mode's; a value the user changed is kept.
export function switchMode(settings, from, to) {
  const was = modeDefaults(from);
  const next = modeDefaults(to);
  const out = { ...settings };
  for (const key of Object.keys(next)) {
    if (JSON.stringify(settings[key]) === JSON.stringify(was[key])) out[key] = structuredClone(next[key]);
  }
  return out;
}
export const field = (key) => build().fields[key];
export const styleLayers = () => build().layers;

// The wizard's groups of settings (settings.json `group`: its heading), in settings.json's order,
// with only the settings that mean something in the mode: [{title, keys}].
export function settingGroups(mode = 'stylize') {
  const groups = new Map();
  for (const [key, spec] of Object.entries(settingsSchema())) {
    if (!spec.group || spec.ui === false || !usedIn(key, mode)) continue;
    if (!groups.has(spec.group)) groups.set(spec.group, []);
    groups.get(spec.group).push(key);
  }
  return [...groups].map(([title, keys]) => ({ title, keys }));
}

// A setting's label, unit and help as the mode's run means them (settings.json's words are a
// stylization run's; `synthesis_words` replaces some for texture synthesis).
export function settingWords(key, mode = 'stylize') {
  const { label, unit, help, synthesis_words: synthesis } = settingsSchema()[key];
  return { label, unit, help, ...(mode === 'synthesis' ? synthesis : {}) };
}

// -- presets -----------------------------------------------------------------------------------
// A preset sets these settings: its own values where it has them, else the mode's defaults. The
// standard preset has none of its own, so it is the defaults whatever settings.json says.
const PRESET_KEYS = ['image_size', 'batch_size', 'iterations', 'style_size', 'checkpoint_every'];
const thousands = (x) => x.toLocaleString('en-US');
const runWords = (v, what = '') => `${v.image_size} px${what && ` ${what}`}, batch ${v.batch_size}, ${thousands(v.iterations)} iterations`;
const quickTry = (what, more = {}) => ({
  id: 'quick',
  name: 'Quick CPU try',
  own: () => ({ image_size: 64, iterations: 300, checkpoint_every: 100, ...more }),
  blurb: (v) => `${runWords(v, what)}, a checkpoint every ${v.checkpoint_every}: see it work on a CPU.`,
});

// Each mode's presets. own(d): the preset's values, given the mode's defaults d.
const PRESETS = {
  stylize: [
    quickTry('photos', { batch_size: 2 }),
    { id: 'standard', name: 'Standard GPU', own: () => ({}), blurb: (v) => `${runWords(v)}. The usual choice with a GPU.` },
    {
      id: 'high',
      name: 'High quality',
      own: () => ({ image_size: 512, iterations: 10000, style_size: 512 }),
      blurb: (v) => `${runWords(v)}, ${v.style_size} px texture. Best results, takes a while.`,
    },
  ],
  synthesis: [
    quickTry('samples'),
    { id: 'standard', name: 'Standard', own: () => ({}), blurb: (v) => `${runWords(v, 'samples')}: the synthesis defaults.` },
    {
      id: 'high',
      name: 'High quality',
      own: (d) => ({ image_size: 256, iterations: d.iterations * 3, style_size: 512 }),
      blurb: (v) => `${runWords(v, 'samples')}, ${v.style_size} px texture. Larger motifs, takes a while.`,
    },
  ],
};

// The mode's presets: [{id, name, blurb, values}], values being every PRESET_KEYS setting.
export function presets(mode = 'stylize') {
  const d = modeDefaults(mode);
  return (PRESETS[mode] || PRESETS.stylize).map(({ id, name, own, blurb }) => {
    const values = { ...Object.fromEntries(PRESET_KEYS.map((key) => [key, d[key]])), ...own(d) };
    return { id, name, blurb: blurb(values), values };
  });
}

// The preset whose values all match the settings, or null (custom).
export function matchingPreset(s, mode = 'stylize') {
  return presets(mode).find((p) => Object.entries(p.values).every(([k, v]) => s[k] === v))?.id ?? null;
}

// Parses a text field's value by its rule (settings.json: int or float, min, max): {value} or
// {error}. Valid: a finite number within [min, max], whole for an int.
export function parseField(key, text) {
  const rule = field(key);
  const t = String(text ?? '').trim();
  if (t === '') return rule.optional ? { value: null } : { error: 'Required.' };
  const n = Number(t);
  if (!Number.isFinite(n)) return { error: 'Enter a number.' };
  if (rule.kind === 'int' && !Number.isInteger(n)) return { error: 'Enter a whole number.' };
  if (n < rule.min) return { error: `At least ${rule.min}.` };
  if (n > rule.max) return { error: `At most ${rule.max.toLocaleString('en-US')}.` };
  return { value: n };
}

// Seconds per training image on a device (assumptions stated in the UI), scaling with pixels.
// CPU: per 256 px image on 2 cores (BENCHMARKS.md, training step, batch 4), in fp32 and in bf16
// (--precision auto on a CPU with bf16 instructions), taken to scale with the square root of the
// cores (threads scale well short of linearly). GPU: about 150 images/s.
export const CPU_SECONDS_256_2_CORES = { fp32: 0.9, bf16: 0.45 };
// A texture-synthesis sample against a stylized photo of the same size: measured on 2 cores
// (BENCHMARKS.md, Texture synthesis), 300 steps of 64 px, batch 4, took 133-151 s where the photo
// figure above predicts 68 s (small maps use the cores less well; six scales of 48 channels).
export const MODE_COST = { stylize: 1, synthesis: 2 };
export function cpuPrecision(s, device) {
  return s.precision !== 'fp32' && device?.cpu_bf16 ? 'bf16' : 'fp32';
}
function secondsPerImage(kind, s, device, mode) {
  const pixels = (((s.image_size || 256) / 256) ** 2) * (MODE_COST[mode] ?? 1);
  if (kind === 'cuda') return pixels / 150;
  const cpus = Math.max(1, device?.cpus || 2);
  return CPU_SECONDS_256_2_CORES[cpuPrecision(s, device)] * pixels * Math.sqrt(2 / cpus);
}

// Previews and the held-out evaluation, in training images of the run's size (measured here, 2
// cores, 64 px, batch 2: a step 4.6 s, a preview of the 4 photos 2.7 s, an evaluation of them 2.7 s,
// the first preview and evaluation 15 s and 4 s more: the forward's first use). A synthesis run
// evaluates 8 seeds' samples. Counted only when the settings say how often (preview_every,
// checkpoint_every): previews at every preview_every and the last step, an evaluation before
// the first step and at every checkpoint (checkpoint_every and the last step).
export const PREVIEW_IMAGES = 1.2;
export const EVAL_IMAGES = { stylize: 1.2, synthesis: 2.4 };
export const FIRST_USE_IMAGES = 8;
export function extraImages(s, mode = 'stylize') {
  const n = s.iterations || 0;
  if (!n || !s.preview_every || !s.checkpoint_every) return 0;
  const previews = Math.ceil(n / s.preview_every);
  const evals = 1 + Math.ceil(n / s.checkpoint_every);
  return previews * PREVIEW_IMAGES + evals * (EVAL_IMAGES[mode] ?? EVAL_IMAGES.stylize) + FIRST_USE_IMAGES;
}

// mode: what the run trains (a batch is photos or texture samples). The steps, and the previews
// and evaluations the settings ask for.
export function estimateSeconds(kind, s, device, mode = 'stylize') {
  return ((s.iterations || 0) * (s.batch_size || 1) + extraImages(s, mode)) * secondsPerImage(kind, s, device, mode);
}

// Which device a run with these settings trains on, given the machine.
export function effectiveDevice(setting, detected) {
  if (setting === 'cpu') return 'cpu';
  if (setting === 'cuda') return 'cuda';
  return detected?.kind === 'cuda' ? 'cuda' : 'cpu';
}

// The config sent to POST /api/runs: a texture-synthesis run has no photos, and neither mode gets
// the settings that mean nothing to it.
export function toConfig({ mode = 'stylize', dataPath, texture, settings }) {
  const config = mode === 'synthesis' ? { mode, texture } : { data_dir: dataPath, texture };
  for (const key of Object.keys(defaults())) {
    if (!usedIn(key, mode)) continue;
    const v = settings[key];
    if (v === null || v === undefined) continue;
    config[key] = Array.isArray(v) ? [...v] : v;
  }
  return config;
}

// -- sweeps ------------------------------------------------------------------------------------
// The settings a sweep can vary (settings.json `sweep`: the suggested grid, as factors of the
// current value or steps from it) and how many values a sweep takes (`sweep_values`).
export const sweepable = (mode = 'stylize') => Object.keys(settingsSchema())
  .filter((key) => settingsSchema()[key].sweep && usedIn(key, mode));

export function suggestSweep(key, current) {
  const { sweep, min, max, type } = settingsSchema()[key];
  const raw = sweep.times ? sweep.times.map((f) => current * f) : sweep.plus.map((d) => current + d);
  const values = raw.map((v) => Math.min(max, Math.max(min, v)))
    .map((v) => (type === 'int' ? Math.round(v) : Number(v.toPrecision(4))));
  return [...new Set(values)];
}

// The values typed for a sweep of `key`: {values} or {error}.
export function parseSweep(key, text) {
  const [low, high] = sweepValueLimits();
  const parts = String(text ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const values = [];
  for (const part of parts) {
    const r = parseField(key, part);
    if (r.error || r.value === null) return { error: `${part}: ${r.error || 'Enter a number.'}` };
    values.push(r.value);
  }
  if (values.length < low || values.length > high) return { error: `Give ${low} to ${high} values, separated by commas.` };
  if (new Set(values).size !== values.length) return { error: 'Each value once.' };
  return { values };
}
