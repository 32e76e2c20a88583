// Live (#/runs/:id/live): the run's network running in this page, frame after frame, on the
// webcam, a photo or a video (a texture-synthesis run: on noise that flows), with the controls
// acting on the next frame. The network: live-engine.js; a frame: live-frame.js; the sources:
// live-source.js; the page: live-controls.js; snapshot and recording: live-capture.js.
import { h, icon, replace } from './dom.js';
import { api } from './api.js';
import * as store from './store.js';
import { photosSrc, runMode, runName } from './runinfo.js';
import { chooseBackend, loadNetwork, synthesisInputs } from './live-engine.js';
import { Stylizer, Synthesizer, toImageData } from './live-frame.js';
import { cameraSource, photoSource, videoSource } from './live-source.js';
import { liveLayout } from './live-controls.js';
import { record, recordingRefusal, snapshot } from './live-capture.js';
import { FrameMeter } from './live-meter.js';

// Between two frames: the network's run holds the page's thread (its WebAssembly threads work with
// it), so each frame waits for the browser to paint it and to handle input before the next starts.
const nextPaint = () => new Promise((r) => requestAnimationFrame(r));

// The model Live loads: the checkpoint of that iteration when one is named, else the run's
// model.pth, else its latest checkpoint (a run still training).
function modelOf(run, iteration) {
  if (iteration !== undefined) {
    const chosen = run.checkpoints?.find((c) => String(c.iteration) === iteration);
    if (!chosen) throw new Error(`This run has no checkpoint at iteration ${iteration}. Its dashboard lists the ones it has.`);
    return { checkpoint: chosen.path.split('/').pop(), what: `its checkpoint at iteration ${chosen.iteration}` };
  }
  if (run.model) return { checkpoint: null, what: 'its model' };
  const last = run.checkpoints?.at(-1);
  return last ? { checkpoint: last.path.split('/').pop(), what: `its checkpoint at iteration ${last.iteration}` } : null;
}

export function liveView(container, { id, iteration }) {
  document.title = `Live · Run ${id} · TN Studio`;
  const s = { id, iteration, destroyed: false, paused: false, seed: 0, phase: 0, frames: 0, source: null, runner: null, recording: null };
  const title = h('h1', {}, 'Live');
  const sub = h('p', { class: 'page-sub' }, 'The run’s network, running in this page.');
  s.body = h('div', { class: 'live-page' });
  container.append(h('a', { class: 'back-link', href: `#/runs/${encodeURIComponent(id)}` }, icon('back', 16), 'Back to the run'),
    h('div', { class: 'page-head' }, h('div', {}, title, sub)), s.body);
  start(s, title, sub).catch((err) => !s.destroyed && fail(s, err.message));
  return () => {
    s.destroyed = true;
    s.recording?.discard();
    s.source?.stop();
    s.runner?.session.release?.();
  };
}

async function start(s, title, sub) {
  const run = store.getRun(s.id) || (await api.run(s.id)).run;
  const synthesis = runMode(run) === 'synthesis';
  title.textContent = `Live: ${runName(run)}`;
  sub.textContent = synthesis
    ? 'The run’s texture, made in this page from noise that moves, frame after frame.'
    : 'The run’s network, painting your webcam, a photo or a video in this page, frame after frame.';
  s.ui = liveLayout({ synthesis });
  s.body.append(s.ui.el);
  const model = modelOf(run, s.iteration);
  if (!model) throw new Error('This run has no model yet: Live needs its first checkpoint. Come back when the dashboard lists one.');
  s.ui.empty.textContent = `Loading the network (${model.what}, exported to ONNX)…`;
  const net = await loadNetwork(s.id, await chooseBackend(), model.checkpoint);
  if (s.destroyed) return void net.session.release?.();
  const inputs = synthesisInputs(net.session);
  s.runner = inputs ? new Synthesizer(net, inputs) : new Stylizer(net);
  s.ui.backend.dataset.backend = net.backend.name;
  replace(s.ui.backend, h('strong', {}, `Running on ${net.backend.label}. `), net.backend.why,
    ` The network: ${Math.round(net.bytes / 1024)} kB of ONNX, ${model.what}.`);
  wire(s);
  if (!inputs) await fallbackPhoto(s, null);
  s.ui.empty.textContent = inputs ? 'Starting…' : 'Choose the webcam, a photo or a video.';
  loop(s);
}

// A source that could not start: its line, and the next best thing (the run's preview photos),
// so the stage is never blank.
async function fallbackPhoto(s, why) {
  notice(s, why);
  if (s.source) return;
  try {
    await use(s, () => photoSource(photosSrc(s.id), 'the run’s preview photos'), { unlessChosen: true });
  } catch { /* the placeholder says what to choose */ }
}

function notice(s, text) {
  s.ui.notice.textContent = text || '';
  s.ui.notice.hidden = !text;
}

function fail(s, message) {
  const box = s.ui?.empty;
  if (box) {
    s.ui.canvas.hidden = true;
    box.hidden = false;
    box.textContent = message;
    box.classList.add('live-error');
  } else {
    s.body.append(h('p', { class: 'live-empty live-error', id: 'live-empty' }, message));
  }
}

// unlessChosen: the fallback, dropped if a source was chosen while it loaded.
async function use(s, open, { unlessChosen = false } = {}) {
  const next = await open();
  if (s.destroyed || (unlessChosen && s.source)) return void next.stop();
  s.source?.stop();
  s.source = next;
  s.ui.mirror.input.disabled = next.kind !== 'camera';
  s.ui.showing.textContent = `Painting ${next.label}`;
}

function wire(s) {
  const { ui } = s;
  const pick = (open) => use(s, open).then(() => notice(s, null), (err) => fallbackPhoto(s, err.message));
  ui.camera.addEventListener('click', () => pick(cameraSource));
  ui.photo.input.addEventListener('change', () => ui.photo.input.files[0] && pick(() => photoSource(ui.photo.input.files[0])));
  ui.video.input.addEventListener('change', () => ui.video.input.files[0] && pick(() => videoSource(ui.video.input.files[0])));
  ui.newSeed.addEventListener('click', () => { ui.seed.textContent = String(++s.seed); });
  ui.pause.addEventListener('click', () => {
    s.paused = !s.paused;
    ui.pause.textContent = s.paused ? 'Resume' : 'Pause';
  });
  ui.snapshot.addEventListener('click', () => snapshot(ui.canvas, `${s.id}-live`).catch((err) => notice(s, err.message)));
  const refusal = recordingRefusal(ui.canvas);
  if (refusal) ui.record.title = refusal;
  ui.record.addEventListener('click', () => toggleRecording(s, refusal));
}

async function toggleRecording(s, refusal) {
  if (refusal) return notice(s, refusal);
  if (!s.recording) {
    s.recording = record(s.ui.canvas, `${s.id}-live`);
    s.ui.record.textContent = 'Stop recording';
    s.ui.record.classList.add('live-recording');
    return;
  }
  const { recording } = s;
  s.recording = null;
  s.ui.record.textContent = 'Record';
  s.ui.record.classList.remove('live-recording');
  await recording.stop();
}

// The processing size of a sw x sh source: its long side at the chosen size, at least 16 px a side.
function frameSize(sw, sh, size) {
  const scale = size / Math.max(sw, sh);
  return [Math.max(16, Math.round(sw * scale)), Math.max(16, Math.round(sh * scale))];
}

// One frame with the controls as they are now; null while there is nothing to paint.
function step(s, dt) {
  const { ui, runner } = s;
  const size = Number(ui.size.input.value);
  if (runner instanceof Synthesizer) {
    s.phase = (s.phase + (2 * Math.PI * dt) / 1000 / Number(ui.flow.input.value)) % (2 * Math.PI);
    return runner.run({ w: size, h: size, seed: s.seed, phase: s.phase });
  }
  const dims = s.source?.size();
  if (!dims) return null;
  const [w, h] = frameSize(...dims, size);
  return runner.run({
    source: s.source.element, sw: dims[0], sh: dims[1], w, h, seed: s.seed,
    mirror: s.source.kind === 'camera' && ui.mirror.input.checked, factor: Number(ui.noise.input.value),
  });
}

// The frame on the canvas (a synthesis frame laid 2x2 when Tiled is on).
function show(s, { output, w, h }) {
  const { canvas } = s.ui;
  const n = s.runner instanceof Synthesizer && s.ui.tiled.input.checked ? 2 : 1;
  if (canvas.width !== n * w || canvas.height !== n * h) {
    [canvas.width, canvas.height] = [n * w, n * h];
    canvas.style.setProperty('--aspect', w / h);
  }
  const image = toImageData(output, w, h);
  const ctx = canvas.getContext('2d');
  for (let i = 0; i < n * n; i++) ctx.putImageData(image, (i % n) * w, Math.floor(i / n) * h);
  s.frames += 1;
  Object.assign(canvas.dataset, { frames: s.frames, seed: s.seed, factor: s.runner.last.factor ?? '' });
  canvas.tnFrame = s.runner.last; // the frame's tensors, for the parity test
  if (canvas.hidden) {
    canvas.hidden = false;
    s.ui.empty.hidden = true;
    s.ui.snapshot.disabled = false;
    s.ui.record.disabled = false;
  }
}

async function loop(s) {
  const meter = new FrameMeter(s.ui.fps, s.ui.timing);
  let last = performance.now();
  while (!s.destroyed) {
    if (s.paused || document.hidden) {
      await nextPaint();
      last = performance.now();
      continue;
    }
    const t0 = performance.now();
    let frame;
    try {
      frame = await step(s, t0 - last);
    } catch (err) {
      if (s.destroyed) return;
      notice(s, `The network failed on this frame: ${err.message}. Paused; try a smaller size, then Resume.`);
      s.ui.pause.click();
      continue;
    }
    last = t0;
    if (s.destroyed) return;
    if (!frame) {
      await nextPaint();
      continue;
    }
    const t1 = performance.now();
    show(s, frame);
    meter.add({ ...frame.ms, show: performance.now() - t1 });
    await nextPaint();
  }
}
