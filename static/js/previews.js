// The preview panel: the held-out photos (previews/photos.png) above the network's output at
// one iteration, with a slider over every preview so far. Follows the newest preview unless
// the slider has been moved back. A texture-synthesis run's previews (setMode('synthesis')) are
// drawn by previews-samples.js instead: the exemplar, the samples per seed and their tiling.
import { h, newId, perFrame } from './dom.js';
import { runFile } from './api.js';
import { int } from './format.js';
import { SamplesView } from './previews-samples.js';
import { photosSrc } from './runinfo.js';

// Sets an <img> to src once the new image has loaded, so the old one stays until then. Shown
// `height` px high at most (or its own size, if smaller than the page).
export function swap(img, src, onload, height = 220) {
  if (img.dataset.src === src) return;
  img.dataset.src = src;
  const next = new Image();
  next.decoding = 'async';
  next.onload = () => {
    if (img.dataset.src !== src) return;
    img.src = src;
    // Small strips are scaled up (crisp pixels) to a readable height, large ones down.
    img.classList.toggle('pixelated', next.naturalWidth < 700);
    img.style.maxWidth = `min(100%, ${Math.round((height * next.naturalWidth) / next.naturalHeight)}px)`;
    onload?.(next);
  };
  next.onerror = () => {
    if (img.dataset.src === src) img.dataset.src = '';
  };
  next.src = src;
}

export class PreviewPanel {
  constructor(runId) {
    this.runId = runId;
    this.previews = []; // [{iteration, path, tiled?}], by iteration
    this.index = -1;
    this.follow = true;
    this.photosShown = false;
    this.mode = 'stylize';
    this.samples = new SamplesView(runId);

    const sliderId = newId('preview-slider');
    this.slider = h('input', { id: sliderId, type: 'range', min: 0, max: 0, step: 1, value: 0, class: 'range', disabled: true, 'aria-valuetext': 'no previews yet' });
    this.sliderLabel = h('output', { for: sliderId, class: 'num', id: 'preview-iteration' }, '–');
    this.latestBtn = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', disabled: true }, 'Latest');
    this.photos = h('img', { class: 'strip', alt: 'The held-out preview photos, unstylized', id: 'preview-photos' });
    this.image = h('img', { class: 'strip', alt: '', id: 'preview-image' });
    this.caption = h('span', { class: 'strip-label' }, 'Stylized');
    this.photosFig = h('figure', { class: 'strip-fig', hidden: true }, h('figcaption', { class: 'strip-label' }, 'Photos (held out from training)'), this.photos);
    this.imageFig = h('figure', { class: 'strip-fig', hidden: true }, h('figcaption', {}, this.caption), this.image);
    this.empty = h('p', { class: 'muted preview-empty' }, 'The first preview appears after a few iterations.');
    this.el = h('section', { class: 'card preview-card', 'aria-labelledby': 'preview-title', dataset: { previews: '0' } },
      h('div', { class: 'card-head' },
        h('h2', { id: 'preview-title' }, 'Previews'),
        this.controls = h('div', { class: 'preview-controls', hidden: true },
          h('label', { for: sliderId, class: 'label small' }, 'Iteration'), this.slider, this.sliderLabel, this.latestBtn)),
      this.empty, this.photosFig, this.imageFig, this.samples.el);

    // A history replay adds many previews at once: only the last one is loaded.
    this.scheduleShow = perFrame(() => this.show());
    this.slider.addEventListener('input', () => {
      this.index = Number(this.slider.value);
      this.follow = this.index === this.previews.length - 1;
      this.show();
    });
    this.latestBtn.addEventListener('click', () => {
      this.follow = true;
      this.index = this.previews.length - 1;
      this.show();
    });
  }

  // 'stylize' or 'synthesis' (from the run's start event or its RunInfo).
  setMode(mode) {
    if (!mode || mode === this.mode) return;
    this.mode = mode;
    const synthesis = mode === 'synthesis';
    this.samples.el.hidden = !synthesis;
    this.photosFig.hidden = true;
    this.imageFig.hidden = true;
    if (this.photosShown) {
      this.photosShown = false;
      this.started();
    }
    if (this.previews.length) this.show();
  }

  // The photos strip (the exemplar, for synthesis) exists once the trainer has started.
  started(mode) {
    this.setMode(mode);
    if (this.photosShown) return;
    this.photosShown = true;
    if (this.mode === 'synthesis') this.samples.started();
    else swap(this.photos, photosSrc(this.runId), () => { this.photosFig.hidden = this.mode !== 'stylize'; });
  }

  add(iteration, path, tiled) {
    const known = this.previews.findIndex((p) => p.iteration === iteration);
    if (known >= 0) this.previews[known] = { iteration, path, tiled };
    else this.previews.push({ iteration, path, tiled });
    this.previews.sort((a, b) => a.iteration - b.iteration);
    if (this.follow) this.index = this.previews.length - 1;
    this.el.dataset.previews = String(this.previews.length);
    this.started();
    this.scheduleShow();
  }

  // What the panel says before the first preview (the dashboard says when it comes).
  setEmptyText(text) {
    if (text && this.empty.textContent !== text) this.empty.textContent = text;
  }

  pathAt(iteration) {
    return this.previews.find((p) => p.iteration === iteration)?.path ?? null;
  }

  show() {
    const n = this.previews.length;
    this.empty.hidden = n > 0;
    this.slider.max = String(Math.max(0, n - 1));
    this.slider.disabled = n < 2;
    this.latestBtn.disabled = this.follow || n === 0;
    this.controls.hidden = n === 0;
    if (!n) return;
    this.slider.value = String(this.index);
    const p = this.previews[this.index];
    this.sliderLabel.textContent = `${int(p.iteration)}${this.index === n - 1 ? ' (latest)' : ''}`;
    this.slider.setAttribute('aria-valuetext', `iteration ${p.iteration}, preview ${this.index + 1} of ${n}`);
    if (this.mode === 'synthesis') {
      this.samples.show(p, () => { this.el.dataset.shown = String(p.iteration); });
      return;
    }
    this.caption.textContent = `Stylized at iteration ${int(p.iteration)}`;
    this.image.alt = `The preview photos stylized by the network at iteration ${p.iteration}`;
    swap(this.image, runFile(this.runId, p.path), () => {
      this.imageFig.hidden = this.mode !== 'stylize';
      this.el.dataset.shown = String(p.iteration);
    });
  }
}

// One photo of a preview strip (n square photos side by side), as a square crop; `pixelated`:
// a small picture scaled up with crisp pixels.
export function stripCrop(src, index, n, alt, pixelated = false) {
  return h('div', { class: 'crop' }, h('img', {
    src, alt, loading: 'lazy', class: pixelated ? 'pixelated' : null, style: { width: `${n * 100}%`, left: `-${index * 100}%` },
  }));
}
