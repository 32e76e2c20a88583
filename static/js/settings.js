// The trainer's settings: defaults (worker/train.py), presets, field rules, time estimates.

export const STYLE_LAYERS = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'];

export const DEFAULTS = Object.freeze({
  style_weights: [5, 6, 2, 2, 2],
  content_weight: 1000,
  balance: 2,
  noise: 1,
  image_size: 256,
  style_size: 256,
  batch_size: 4,
  iterations: 3000,
  lr: 0.01,
  lr_step: 300,
  lr_decay: 0.8,
  checkpoint_every: 500,
  preview_every: 100,
  norm: 'instance',
  scales: 5,
  seed: 0,
  device: 'auto',
  vgg_weights: 'imagenet',
  workers: null, // auto: on a GPU half the cores (at most 8), on the CPU none (1 above 4 cores)
});

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

// Field rules: kind int|float, min, max, and help. A value is valid when it is a finite number
// within [min, max] (and whole for int).
export const FIELDS = {
  image_size: { label: 'Image size', unit: 'px', kind: 'int', min: 16, max: 4096, help: 'Photos are resized (short side) and randomly cropped to this square.' },
  style_size: { label: 'Style size', unit: 'px', kind: 'int', min: 16, max: 4096, help: 'Long side of the texture as the network sees it. Larger: bigger brush strokes.' },
  batch_size: { label: 'Batch size', unit: 'photos', kind: 'int', min: 1, max: 256, help: 'Photos per optimiser step.' },
  iterations: { label: 'Iterations', unit: 'steps', kind: 'int', min: 1, max: 10000000, help: 'Optimiser steps in all.' },
  lr: { label: 'Learning rate', kind: 'float', min: 1e-7, max: 1, help: 'Adam learning rate.' },
  lr_step: { label: 'LR step', unit: 'steps', kind: 'int', min: 1, max: 10000000, help: 'Multiply the learning rate by the decay every this many steps.' },
  lr_decay: { label: 'LR decay', kind: 'float', min: 0.0001, max: 1, help: 'Factor applied every LR step.' },
  content_weight: { label: 'Content weight', kind: 'float', min: 0, max: 1e9, help: 'Weight of the content loss at relu4_2: higher keeps more of the photo.' },
  balance: { label: 'Style balance', kind: 'float', min: 0.001, max: 10000, help: 'How many times the content term the style term starts at, with the default weights (the style scale is calibrated for it). Higher: more texture, less photo.' },
  noise: { label: 'Noise factor', kind: 'float', min: 0, max: 100, help: 'Scale k of the noise fed to the generator.' },
  checkpoint_every: { label: 'Checkpoint every', unit: 'steps', kind: 'int', min: 1, max: 10000000, help: 'A resumable checkpoint (and downloadable model) this often.' },
  preview_every: { label: 'Preview every', unit: 'steps', kind: 'int', min: 1, max: 10000000, help: 'Stylize the held-out photos this often.' },
  scales: { label: 'Generator scales', kind: 'int', min: 1, max: 8, help: 'K, the number of multi-scale branches (the paper uses 5).' },
  seed: { label: 'Seed', kind: 'int', min: 0, max: 2 ** 31 - 1, help: 'Same seed, same run (on the CPU).' },
  workers: { label: 'Data workers', kind: 'int', min: 0, max: 64, optional: true, help: 'Data loading processes. Empty: automatic (on a GPU, half the cores up to 8; on the CPU, none up to 4 cores, else 1).' },
  style_weight: { label: 'Style weight', kind: 'float', min: 0, max: 1e9 },
};

// Parses a text field's value by its rule: {value} or {error}.
export function parseField(key, text) {
  const rule = FIELDS[key];
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
// CPU: 0.6 s per 256 px image measured on 2 cores (BENCHMARKS.md), taken to scale with the
// square root of the cores (threads scale well short of linearly). GPU: about 150 images/s.
export const CPU_SECONDS_256_2_CORES = 0.6;
export function secondsPerImage(kind, imageSize, cpus = 2) {
  const pixels = ((imageSize || 256) / 256) ** 2;
  if (kind === 'cuda') return pixels / 150;
  return CPU_SECONDS_256_2_CORES * pixels * Math.sqrt(2 / Math.max(1, cpus || 2));
}

export function estimateSeconds(kind, s, cpus) {
  return (s.iterations || 0) * (s.batch_size || 1) * secondsPerImage(kind, s.image_size, cpus);
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
  for (const key of Object.keys(DEFAULTS)) {
    const v = settings[key];
    if (v === null || v === undefined) continue;
    config[key] = Array.isArray(v) ? [...v] : v;
  }
  return config;
}
