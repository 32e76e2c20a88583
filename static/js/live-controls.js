// The Live view's page: the stage (canvas, what it shows, fps and where a frame's time goes) and
// the controls, which the frame loop reads for every frame (so each acts on the next one).
import { h, icon } from './dom.js';

const SIZES = { min: 256, max: 1024, step: 32 }; // px, the long side processed

function range(label, attrs, format, hint) {
  const { id } = attrs;
  const input = h('input', { type: 'range', class: 'range', ...attrs });
  const out = h('output', { for: id, class: 'num' }, format(Number(attrs.value)));
  input.addEventListener('input', () => { out.textContent = format(Number(input.value)); });
  return { input, el: h('div', { class: 'field' }, h('label', { for: id, class: 'label' }, label),
    h('div', { class: 'range-row' }, input, out), hint ? h('p', { class: 'hint' }, hint) : null) };
}

function check(id, label, checked) {
  const input = h('input', { type: 'checkbox', id, checked });
  return { input, el: h('label', { class: 'check', for: id }, input, label) };
}

function fileButton(id, label, accept) {
  const input = h('input', { type: 'file', id, accept, class: 'sr-only-input' });
  return { input, el: h('label', { class: 'btn btn-secondary live-file', for: id }, input, icon(accept.startsWith('image') ? 'image' : 'play', 16), label) };
}

// -> the elements the view wires and reads; synthesis: no source, no style strength, a flow and a tiling.
export function liveLayout({ synthesis }) {
  const ui = {
    canvas: h('canvas', { id: 'live-canvas', class: 'live-canvas', width: 256, height: 256, hidden: true }),
    empty: h('p', { class: 'live-empty', id: 'live-empty' }, 'Loading…'),
    notice: h('p', { class: 'live-notice', id: 'live-notice', role: 'status', hidden: true }),
    backend: h('p', { class: 'live-backend small', id: 'live-backend' }, 'Choosing a backend…'),
    fps: h('span', { class: 'num', id: 'live-fps' }, '– fps'),
    timing: h('span', { class: 'muted small', id: 'live-timing' }),
    showing: h('span', { class: 'muted small', id: 'live-showing' }),
    camera: h('button', { type: 'button', class: 'btn btn-secondary', id: 'live-camera' }, icon('play', 16), 'Webcam'),
    photo: fileButton('live-photo', 'Photo…', 'image/*'),
    video: fileButton('live-video', 'Video…', 'video/*'),
    noise: range('Style strength (noise factor)', { min: 0, max: 4, step: 0.1, value: 1, id: 'live-noise' }, (v) => v.toFixed(1),
      '0 keeps the picture clearest; higher lets the texture take over.'),
    seed: h('output', { class: 'num', id: 'live-seed-value' }, '0'),
    newSeed: h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'live-seed' }, 'New noise'),
    size: range('Processing size (long side)', { ...SIZES, value: SIZES.min, id: 'live-size' }, (v) => `${v} px`,
      'Smaller is faster; the network’s work grows with the area.'),
    mirror: check('live-mirror', 'Mirror the webcam', true),
    tiled: check('live-tiled', 'Tiled 2×2 (shows that it tiles without a seam)', false),
    flow: range('Flow: one loop every', { min: 2, max: 30, step: 1, value: 8, id: 'live-flow' }, (v) => `${v} s`,
      'The noise moves along a closed path, so the texture flows and comes back.'),
    pause: h('button', { type: 'button', class: 'btn btn-secondary', id: 'live-pause' }, 'Pause'),
    snapshot: h('button', { type: 'button', class: 'btn btn-secondary', id: 'live-snapshot', disabled: true }, icon('download', 16), 'Snapshot'),
    record: h('button', { type: 'button', class: 'btn btn-secondary', id: 'live-record', disabled: true }, 'Record'),
  };
  const stage = h('section', { class: 'card live-stage', 'aria-label': 'Live output' },
    h('div', { class: 'live-frame' }, ui.canvas, ui.empty),
    h('div', { class: 'live-stats' }, ui.fps, ui.timing, ui.showing));
  const controls = h('section', { class: 'card live-controls', 'aria-label': 'Live controls' },
    synthesis ? null : h('div', { class: 'field' }, h('span', { class: 'label' }, 'Paint'),
      h('div', { class: 'live-sources' }, ui.camera, ui.photo.el, ui.video.el)),
    synthesis ? null : ui.noise.el,
    h('div', { class: 'field' }, h('span', { class: 'label' }, 'Noise'),
      h('div', { class: 'range-row' }, h('span', {}, 'seed ', ui.seed), ui.newSeed)),
    ui.size.el,
    synthesis ? [ui.flow.el, ui.tiled.el] : ui.mirror.el,
    h('div', { class: 'live-actions' }, ui.pause, ui.snapshot, ui.record));
  ui.el = h('div', {}, ui.notice, ui.backend, h('div', { class: 'live-grid' }, stage, controls));
  return ui;
}
