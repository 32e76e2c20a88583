// One cell of the compare grid, large: the held-out photo, the network's output at that
// iteration, and the texture side by side; "Use this one" (the checkpoint becomes the run's
// model.pth, the previous model kept); and Stylize with that network, noise strip included. For a
// texture-synthesis run: the exemplar, the sample of that seed and the texture; and Generate.
import { h, icon, replace } from './dom.js';
import { api, runFile } from './api.js';
import * as store from './store.js';
import { isEnded } from './protocol.js';
import { int, title } from './format.js';
import { exemplarSrc, photosSrc, runMode, textureName, textureSrc } from './runinfo.js';
import { stripCrop } from './previews.js';
import { StylizePanel } from './stylize.js';
import { GeneratePanel } from './generate.js';

const fileName = (path) => path.split('/').pop();

// The checkpoint to use for a preview at `iteration`: the one saved then, else the latest before.
function checkpointFor(run, iteration) {
  const before = (run.checkpoints || []).filter((c) => c.iteration <= iteration);
  return before.sort((a, b) => b.iteration - a.iteration)[0] || null;
}

export function openCell({ run, iteration, path, photo, photos, label }) {
  const ckpt = checkpointFor(run, iteration);
  const status = h('div', { class: 'use-status', 'aria-live': 'polite', id: 'use-status' });
  const use = h('button', { type: 'button', class: 'btn btn-primary', id: 'use-checkpoint', disabled: !ckpt || !isEnded(run.state) },
    icon('check', 16), ckpt && ckpt.iteration !== iteration ? `Use iteration ${int(ckpt.iteration)}` : 'Use this one');
  const useHint = !ckpt ? 'No checkpoint was saved by this iteration.'
    : !isEnded(run.state) ? 'Available once the run has ended (the trainer writes model.pth when it stops).'
      : `${ckpt.iteration !== iteration ? `No checkpoint at iteration ${int(iteration)}; the nearest before it is ${int(ckpt.iteration)}. ` : ''}`
        + 'Its network becomes the run’s model (the download); the current model is kept beside it.';
  use.addEventListener('click', async () => {
    use.disabled = true;
    try {
      const res = await api.useCheckpoint(run.id, ckpt.iteration);
      if (res.run) store.upsertRun(res.run);
      replace(status, h('div', { class: 'callout', role: 'status' }, icon('check'),
        h('span', {}, `model.pth is now the network of iteration ${int(ckpt.iteration)}`,
          res.previous ? `; the previous model is kept as ${res.previous}.` : '.')));
    } catch (err) {
      replace(status, h('div', { class: 'callout callout-error', role: 'alert' }, icon('alert'), h('span', {}, `Could not use it: ${err.message}`)));
      use.disabled = false;
    }
  });

  // That checkpoint's network running in the page (Live), on the webcam, a photo or flowing noise.
  const live = ckpt ? h('a', { class: 'btn btn-secondary', id: 'cell-live', href: `#/runs/${encodeURIComponent(run.id)}/live/${ckpt.iteration}`,
    title: `Run the network of iteration ${int(ckpt.iteration)} in this page: webcam, photo or video` }, icon('play', 16), 'Live') : null;
  live?.addEventListener('click', () => dialog.close()); // the Live view replaces the comparison
  const tex = textureName(run);
  const synthesis = runMode(run) === 'synthesis';
  const networks = { choices: () => (ckpt ? [{ value: fileName(ckpt.path), label: `Checkpoint at iteration ${int(ckpt.iteration)}` }] : []) };
  const stylize = synthesis ? new GeneratePanel(run.id, networks) : new StylizePanel(run.id, networks);
  stylize.update();
  const what = synthesis ? `seed ${photo}` : `photo ${photo + 1}`;
  const close = h('button', { type: 'button', class: 'btn btn-ghost', id: 'cell-close' }, 'Close');
  const dialog = h('dialog', { class: 'dialog dialog-wide', id: 'cell-dialog', 'aria-labelledby': 'cell-title' },
    h('div', { class: 'cell-head' }, h('h2', { id: 'cell-title' }, label), h('p', { class: 'muted' }, `Iteration ${int(iteration)} · ${what}`)),
    h('div', { class: 'cell-figures' },
      synthesis
        ? h('figure', {}, h('div', { class: 'crop' }, h('img', { src: exemplarSrc(run.id), alt: 'The exemplar: the texture as the network sees it', class: 'crop-fill' })),
          h('figcaption', { class: 'muted small' }, 'Exemplar'))
        : h('figure', {}, stripCrop(photosSrc(run.id), photo, photos, `Held-out photo ${photo + 1}`), h('figcaption', { class: 'muted small' }, 'Photo')),
      h('figure', {}, stripCrop(runFile(run.id, path), photo, photos, synthesis ? `The sample of seed ${photo} at iteration ${iteration}` : `Stylized at iteration ${iteration}`),
        h('figcaption', { class: 'muted small' }, synthesis ? `Sample, seed ${photo}, iteration ${int(iteration)}` : `Stylized, iteration ${int(iteration)}`)),
      h('figure', {}, h('div', { class: 'crop' }, h('img', { src: textureSrc(run), alt: `Texture: ${title(tex)}`, class: 'crop-fill' })), h('figcaption', { class: 'muted small' }, `Texture: ${title(tex)}`))),
    h('div', { class: 'cell-use' }, use, live, h('p', { class: 'hint' }, useHint), status),
    stylize.el,
    h('div', { class: 'dialog-actions' }, close));
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    stylize.destroy();
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  // Opened at its top, the pictures in view: focus goes to the title (Close is at the bottom,
  // below the stylize panel; focusing it scrolled them out of sight).
  const heading = dialog.querySelector('#cell-title');
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
  dialog.scrollTop = 0;
  return dialog;
}
