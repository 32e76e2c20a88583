// The trainer's settings as the wizard shows them: defaults, bounds and help come from
// worker/settings.json (protocol.js); here, the presets, field parsing and time estimates.
import { settingsSchema, sweepValueLimits } from './protocol.js';

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
export const field = (key) => build().fields[key];
export const styleLayers = () => build().layers;

export const PRESETS = [
  {
    id: 'quick',
    name: 'Quick CPU try',
    blurb: '64 px photos, batch 2, 300 iterations. Minutes on a laptop: see it work.',
    values: { image_size: 64, batch_size: 2, iterations: 300, style_size: 256 },
  },
  {
    id: 'standard',
    name: 'Standard GPU',
    blurb: '256 px, batch 4, 3,000 iterations. The usual choice with a GPU.',
    values: { image_size: 256, batch_size: 4, iterations: 3000, style_size: 256 },
  },
  {
    id: 'high',
    name: 'High quality',
    blurb: '512 px, batch 4, 10,000 iterations, 512 px texture. Best results, takes a while.',
    values: { image_size: 512, batch_size: 4, iterations: 10000, style_size: 512 },
  },
];

// The preset whose values all match the settings, or null (custom).
export function matchingPreset(s) {
  return PRESETS.find((p) => Object.entries(p.values).every(([k, v]) => s[k] === v))?.id ?? null;
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
export function cpuPrecision(s, device) {
  return s.precision !== 'fp32' && device?.cpu_bf16 ? 'bf16' : 'fp32';
}
function secondsPerImage(kind, s, device) {
  const pixels = ((s.image_size || 256) / 256) ** 2;
  if (kind === 'cuda') return pixels / 150;
  const cpus = Math.max(1, device?.cpus || 2);
  return CPU_SECONDS_256_2_CORES[cpuPrecision(s, device)] * pixels * Math.sqrt(2 / cpus);
}

export function estimateSeconds(kind, s, device) {
  return (s.iterations || 0) * (s.batch_size || 1) * secondsPerImage(kind, s, device);
}

// Which device a run with these settings trains on, given the machine.
export function effectiveDevice(setting, detected) {
  if (setting === 'cpu') return 'cpu';
  if (setting === 'cuda') return 'cuda';
  return detected?.kind === 'cuda' ? 'cuda' : 'cpu';
}

// The config sent to POST /api/runs.
export function toConfig({ dataPath, texture, settings }) {
  const config = { data_dir: dataPath, texture };
  for (const key of Object.keys(defaults())) {
    const v = settings[key];
    if (v === null || v === undefined) continue;
    config[key] = Array.isArray(v) ? [...v] : v;
  }
  return config;
}

// -- sweeps ------------------------------------------------------------------------------------
// The settings a sweep can vary (settings.json `sweep`: the suggested grid, as factors of the
// current value or steps from it) and how many values a sweep takes (`sweep_values`).
export const sweepable = () => Object.keys(settingsSchema()).filter((key) => settingsSchema()[key].sweep);

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
