// The machine's device (GET /api/device), fetched once per page, and what it means for a run.
import { h, icon } from './dom.js';
import { api } from './api.js';
import { roughDuration } from './format.js';
import { CPU_SECONDS_256_2_CORES, cpuPrecision, effectiveDevice, estimateSeconds } from './settings.js';

let pending = null;

export function getDevice() {
  pending ??= api.device().then((r) => r.device || r).catch((err) => {
    pending = null;
    throw err;
  });
  return pending;
}

// What the estimate assumes for a texture-synthesis run (settings.js MODE_COST).
const SYNTHESIS_NOTE = 'Texture synthesis: a sample costs about twice what a photo of its size does (measured on '
  + '2 cores), so a 128 px step, batch 4, is taken as half a 256 px stylization step. An estimate.';

// A card: the detected device and an estimate of the run's duration with these settings, for a
// run of `mode` (stylize or synthesis).
export function deviceCard(device, settings, error, mode = 'stylize') {
  if (error) {
    return h('div', { class: 'callout callout-warn device-card', id: 'device-card' }, icon('alert'),
      h('span', {}, `Could not detect the device: ${error}`));
  }
  if (!device) {
    return h('div', { class: 'callout device-card', id: 'device-card' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Detecting the device…');
  }
  const kind = effectiveDevice(settings.device, device);
  const seconds = estimateSeconds(kind, settings, device, mode);
  const modeNote = mode === 'synthesis' ? h('p', { class: 'muted small', id: 'estimate-mode' }, SYNTHESIS_NOTE) : null;
  const gpu = device.gpus?.[0];
  const est = h('p', { class: 'estimate' }, 'Estimated training time with these settings: ', h('strong', { id: 'estimate' }, roughDuration(seconds)), '.');
  if (settings.device === 'cuda' && device.kind !== 'cuda') {
    return h('div', { class: 'callout callout-error device-card', id: 'device-card', role: 'alert' }, icon('alert'),
      h('div', {}, h('strong', {}, 'No CUDA GPU on this machine. '), 'A run set to “cuda” would fail: choose auto or cpu.'));
  }
  if (kind === 'cuda') {
    const more = device.gpus.length > 1 ? ` (+${device.gpus.length - 1} more)` : '';
    return h('div', { class: 'callout callout-ok device-card', id: 'device-card' }, icon('chip'),
      h('div', {}, h('strong', {}, `GPU: ${gpu.name}`), h('span', { class: 'muted' }, ` · ${gpu.memory_gb} GB${more}`), est,
        h('p', { class: 'muted small' }, 'Assumes about 150 images/s at 256 px, scaling with the pixel count.'), modeNote));
  }
  const why = device.kind === 'cuda' ? 'This run is set to the CPU although a GPU is available.' : `No GPU found: training runs on the CPU (${device.cpus} cores).`;
  return h('div', { class: 'callout callout-warn device-card', id: 'device-card' }, icon('alert'),
    h('div', {}, h('strong', {}, why), ' CPU training is slow; the Quick CPU try preset is made for it.', est,
      h('p', { class: 'muted small' }, cpuAssumption(settings, device)), modeNote));
}

function cpuAssumption(settings, device) {
  const precision = cpuPrecision(settings, device);
  const why = precision === 'bf16' ? 'This CPU computes bf16, which Auto precision uses.'
    : device.cpu_bf16 ? 'fp32 as chosen: Auto would use this CPU’s bf16, about twice as fast.' : 'fp32: this CPU has no bf16 instructions.';
  return `Assumes about ${CPU_SECONDS_256_2_CORES[precision]} s per 256 px image on 2 CPU cores (measured), scaling with the pixel count and the square root of the cores. ${why}`;
}
