// Facts derived from a RunInfo (docs/PROTOCOL.md) that several views show.
import { runFile, textureImage } from './api.js';
import { duration, title } from './format.js';
import { STATE, isActive, modeDefaultsOf, settingsSchema } from './protocol.js';

const namedTexture = (run) => run.texture || run.config?.texture || null;
export const textureName = (run) => namedTexture(run) || 'texture';

// The picture of a run's texture: the copy in its own folder (a command-line run's texture is a
// file anywhere), else the built-in or uploaded texture of that name; null when its record names
// none (a folder that cannot be read, or one being deleted): no request for a texture that is not.
export const textureSrc = (run) => {
  if (run.texture_image) return runFile(run.id, run.texture_image);
  const name = namedTexture(run);
  return name ? textureImage(name) : null;
};

// The trainer writes these once, when it starts (worker/train.py): the held-out preview photos
// side by side, and a synthesis run's exemplar.
export const photosSrc = (runId) => runFile(runId, 'previews/photos.png');
export const exemplarSrc = (runId) => runFile(runId, 'previews/exemplar.png');

// Where a run was started, when not from this app: said beside its date.
export const originNote = (run) => (run?.origin === 'cli' ? 'trained from the command line' : '');

// 'stylize' or 'synthesis' (texture synthesis: no photos). RunInfo says; older runs are stylize.
export const runMode = (run) => run?.mode || run?.config?.mode || 'stylize';
export const MODE_LABELS = { stylize: 'Stylize', synthesis: 'Texture synthesis' };

// The loss terms of a RunInfo's losses, in one line: style and content, or style and diversity.
export function lossParts(run, fmt) {
  const l = run.losses;
  if (!l) return '';
  return runMode(run) === 'synthesis'
    ? `style ${fmt(l.style)} · diversity ${fmt(l.diversity)}${l.distance !== undefined ? ` · distance ${fmt(l.distance)}` : ''}`
    : `style ${fmt(l.style)} · content ${fmt(l.content)}`;
}

// How far the run is, 0 to 1. `iteration`: a newer count than the RunInfo's (the dashboard
// follows the iteration events, which the RunInfo lags).
export function progressFraction(run, iteration = run?.iteration) {
  const total = run?.iterations || run?.config?.iterations;
  if (!total) return 0;
  if (run.state === STATE.done) return 1;
  return Math.min(1, (iteration || 0) / total);
}

// Iterations per second from the service's images per second.
export function itPerS(run) {
  const batch = run.config?.batch_size || 4;
  return Number.isFinite(run.images_per_s) && run.images_per_s > 0 ? run.images_per_s / batch : null;
}

// How long the run has trained: exact when the service says when it started and ended
// (started/finished), else since it was created for a live run, else estimated from its rate.
export function runDuration(run, now = Date.now() / 1000) {
  const start = run.started ?? null;
  const end = run.finished ?? null;
  if (start && end) return { text: duration(end - start), approx: false };
  if (run.state === STATE.running || run.state === STATE.stopping) {
    const from = start ?? run.created;
    if (from) return { text: duration(now - from), approx: !start };
  }
  if (run.state === STATE.queued) return { text: 'waiting', approx: false };
  const rate = itPerS(run);
  if (run.iteration && rate) return { text: duration(run.iteration / rate), approx: true };
  return { text: '–', approx: false };
}

// What the run's style scale and starting balance (RunInfo style_scale, start_balance, from its
// first start event) mean, in one line; '' before the run has started.
export function balanceNote(run) {
  if (!Number.isFinite(run?.style_scale)) return '';
  const config = run.config || {};
  const num = (x) => Number(x.toPrecision(2)).toLocaleString('en-US', { maximumSignificantDigits: 2 });
  const sci = (x) => (x >= 1e4 || x < 1e-2 ? x.toExponential(2).replace('e+', 'e') : num(x));
  if (runMode(run) === 'synthesis') {
    const how = (config.style_scale ?? 'auto') === 'auto' ? 'calibrated so that the style term starts at 1' : 'as set';
    return `Style scale ${sci(run.style_scale)} (${how}). The diversity term (diversity ${num(config.diversity ?? 0.1)}) pushes `
      + 'the samples apart: the distance between samples shows how different they are (0: all alike). For more variety, raise the diversity.';
  }
  const asked = config.style_scale ?? 'auto';
  const how = asked === 'auto' ? `calibrated for balance ${num(config.balance ?? run.start_balance)}` : 'as set';
  const began = Number.isFinite(run.start_balance)
    ? `the style term started at ${num(run.start_balance)}× the content term`
    : 'a run from before calibration (raw units)';
  return `Style scale ${sci(run.style_scale)} (${how}): ${began}. The curves show the scaled losses. `
    + 'For more style, raise the balance or lower the content weight; for less, the reverse.';
}

// What a run is called: the name its user gave it (RunInfo name), else its texture's.
export const runName = (run) => (run?.name ? run.name : title(textureName(run)));

// A run's setting as it trained: what it asked for, else its mode's default, else the default.
// (A run's mode is its RunInfo's: older configs say nothing, and mean stylize.)
export function settingOf(run, key) {
  if (key === 'mode') return runMode(run);
  const asked = run?.config?.[key];
  if (asked !== undefined && asked !== null) return asked;
  const modeDefault = modeDefaultsOf(runMode(run))[key];
  return modeDefault !== undefined ? modeDefault : settingsSchema()[key]?.default ?? null;
}

// The settings whose values differ between the runs, in settings.json's order (texture last).
export function differingSettings(runs, { skip = [] } = {}) {
  const keys = [...new Set(Object.keys(settingsSchema()).concat('texture'))].filter((k) => !skip.includes(k));
  return keys.filter((key) => new Set(runs.map((r) => JSON.stringify(settingOf(r, key)))).size > 1);
}

const settingLabel = (key) => settingsSchema()[key]?.label || (key === 'data_dir' ? 'Photos' : title(key));
function settingValue(run, key) {
  const v = settingOf(run, key);
  if (key === 'texture') return title(textureName(run));
  if (key === 'mode') return MODE_LABELS[v] || v;
  if (Array.isArray(v)) return v.join(', ');
  if (v === null || v === undefined) return 'default';
  if (typeof v === 'string' && v.includes('/')) return v.replace(/\/+$/, '').split('/').pop(); // a path: its last part
  const unit = settingsSchema()[key]?.unit;
  return unit === 'px' ? `${v} px` : String(v);
}

// "Image size 128 px · Balance 6": the run's values of `keys`.
export const settingsText = (run, keys) => keys.map((k) => `${settingLabel(k)} ${settingValue(run, k)}`).join(' · ');

// A failed run's reason in one line (RunInfo error, else how the trainer ended).
export function failureLine(run) {
  if (run?.state !== STATE.failed) return '';
  const text = run.error || (Number.isInteger(run.exit_code) ? `The trainer exited with code ${run.exit_code}.` : 'The trainer stopped without saying why.');
  const first = String(text).split('\n').find((l) => l.trim()) || text;
  return first.length > 160 ? `${first.slice(0, 157)}…` : first;
}

// A run continuing from this one that is still queued or running (it needs this run's checkpoint),
// among the runs the page knows: deleting this run is refused until it ends.
export function activeContinuation(run, runs) {
  return runs.find((r) => r.resumed_from?.run === run?.id && isActive(r.state)) || null;
}

// PUT /api/runs/:id/name: the run's new RunInfo ('' removes the name).
export async function renameRun(id, name) {
  let res;
  try {
    res = await fetch(`/api/runs/${encodeURIComponent(id)}/name`, {
      method: 'PUT', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ name }),
    });
  } catch {
    throw new Error('Cannot reach the TN Studio server. Is it still running?');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
  return data.run;
}
