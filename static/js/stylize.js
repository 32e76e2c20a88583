// "Stylize a photo": a photo, a model or checkpoint of the run, a noise factor (style
// strength) -> POST /api/stylize -> the image and a download link. The noise strip renders the
// photo small at several noise factors (the same seed) side by side; picking one renders it at
// full size.
import { h, icon, newId, replace } from './dom.js';
import { api, videoFile } from './api.js';
import { refuseFile } from './wizard-texture.js';
import { STATE, stylizeDefaults, uploadBytes } from './protocol.js';

const VIDEO_EXT = /\.(mp4|mov|m4v|mkv|webm|avi)$/i;
const isVideo = (file) => (file.type ? file.type.startsWith('video/') : VIDEO_EXT.test(file.name));
const POLL_MS = 700;

const STRIP_FACTORS = '0, 0.5, 1, 2, 4';
const STRIP_SIZE = 320; // px, the long side of each strip image
const PREVIEW_SIZE = 512; // px, the long side of the render on releasing the style-strength slider (at most the photo's)

export class StylizePanel {
  // `networks.choices()`: [{value: checkpoint file or '' for the model, label}] (a CheckpointList).
  constructor(runId, networks) {
    this.runId = runId;
    this.checkpoints = networks;
    this.stripUrls = [];
    this.file = null;
    this.inputUrl = null;
    this.outputUrl = null;
    this.busy = false;

    const fileId = 'stylize-file';
    const noiseId = newId('noise');
    const seedId = newId('seed');
    const modelId = newId('stylize-model');
    const defaults = stylizeDefaults(); // what the CLI and the service use when a request names none
    this.fileInput = h('input', { type: 'file', id: fileId, accept: 'image/*,video/*', class: 'sr-only-input' });
    this.fileName = h('span', { class: 'muted small file-name' }, 'No photo chosen');
    this.drop = h('label', { class: 'dropzone dropzone-sm', for: fileId, id: 'stylize-drop' }, this.fileInput, icon('image', 22),
      h('span', {}, h('strong', {}, 'Choose a photo or a video'), ' or drop it here'), this.fileName);
    this.model = h('select', { id: modelId, class: 'input' });
    this.noise = h('input', { id: noiseId, type: 'range', min: 0, max: 4, step: 0.1, value: defaults.noise, class: 'range' });
    this.noiseOut = h('output', { for: noiseId, class: 'num' }, Number(defaults.noise).toFixed(1));
    this.seed = h('input', { id: seedId, type: 'number', min: 0, step: 1, value: defaults.seed, class: 'input input-num input-sm', inputmode: 'numeric' });
    this.button = h('button', { type: 'submit', class: 'btn btn-primary', id: 'stylize-go', disabled: true }, icon('sparkle', 16), 'Stylize');
    this.status = h('div', { class: 'stylize-status', 'aria-live': 'polite' });
    const factorsId = newId('strip-factors');
    this.factors = h('input', { id: factorsId, type: 'text', class: 'input input-mono input-sm', value: STRIP_FACTORS, autocomplete: 'off', spellcheck: false });
    this.stripButton = h('button', { type: 'button', class: 'btn btn-secondary', id: 'noise-strip-go', disabled: true }, 'Noise strip');
    this.strip = h('div', { class: 'noise-strip', id: 'noise-strip' });
    this.result = h('div', { class: 'stylize-result' });
    this.form = h('form', { class: 'stylize-form' },
      this.drop,
      h('div', { class: 'stylize-fields' },
        h('div', { class: 'field' }, h('label', { for: modelId, class: 'label' }, 'Network'), this.model),
        h('div', { class: 'field' },
          h('label', { for: noiseId, class: 'label' }, 'Style strength (noise factor)'),
          h('div', { class: 'range-row' }, this.noise, this.noiseOut),
          h('p', { class: 'hint' }, '0 keeps the photo clearest; higher lets the texture take over.')),
        h('div', { class: 'field' }, h('label', { for: seedId, class: 'label' }, 'Seed'), this.seed)),
      h('div', { class: 'stylize-actions' }, this.button),
      h('div', { class: 'field strip-field' },
        h('label', { for: factorsId, class: 'label' }, 'Compare noise factors'),
        h('div', { class: 'range-row' }, this.factors, this.stripButton),
        h('p', { class: 'hint' }, 'The photo at each factor, side by side, with the same seed. Click one to render it at full size.')),
      this.status);
    this.unavailable = h('p', { class: 'muted stylize-unavailable' }, 'Try the network on your own photos once the run has saved its first checkpoint.');
    this.el = h('section', { class: 'card stylize-card', 'aria-labelledby': 'stylize-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'stylize-title' }, 'Stylize a photo')),
      this.unavailable, this.form, this.strip, this.result);

    this.model.addEventListener('change', () => { this.picked = true; });
    this.noise.addEventListener('input', () => { this.noiseOut.textContent = Number(this.noise.value).toFixed(1); });
    // Released: the photo shown stylized again at the new strength, at the preview size (fast).
    // (Before a first Stylize of the photo, the slider only sets the strength it will use.)
    this.noise.addEventListener('change', () => {
      if (!this.file || this.file !== this.shownFile || this.video || !this.available) return;
      if (this.busy) this.pending = true; // rendered when the one in progress is in
      else this.run({ preview: true });
    });
    this.fileInput.addEventListener('change', () => {
      if (this.fileInput.files[0]) this.choose(this.fileInput.files[0]);
    });
    for (const type of ['dragenter', 'dragover']) {
      this.drop.addEventListener(type, (e) => {
        e.preventDefault();
        this.drop.classList.add('dragging');
      });
    }
    for (const type of ['dragleave', 'drop']) this.drop.addEventListener(type, () => this.drop.classList.remove('dragging'));
    this.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      if (e.dataTransfer?.files?.[0]) this.choose(e.dataTransfer.files[0]);
    });
    this.stripButton.addEventListener('click', () => this.runStrip());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.run();
    });
  }

  // Usable once the run has a model or a checkpoint.
  update() {
    const choices = this.checkpoints.choices();
    this.available = choices.length > 0;
    this.form.hidden = !this.available;
    this.unavailable.hidden = this.available;
    const key = JSON.stringify(choices);
    if (key === this.choicesKey) return this.refresh();
    this.choicesKey = key;
    // The newest network is preselected, until one is picked by hand.
    const was = this.model.value;
    replace(this.model, choices.map((c) => h('option', { value: c.value }, c.label)));
    if (this.picked && choices.some((c) => c.value === was)) this.model.value = was;
    this.refresh();
  }

  choose(file) {
    const video = isVideo(file);
    const refused = !video ? refuseFile(file)
      : file.size > uploadBytes() ? `${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB; videos up to ${uploadBytes() / 2 ** 20} MB `
        + 'are stylized here (longer ones with python -m worker.stylize --input clip.mp4 --output out.mp4).' : null;
    this.video = video && !refused;
    replace(this.button, icon('sparkle', 16), this.video ? 'Stylize video' : 'Stylize');
    if (refused) {
      this.file = null;
      this.fileName.textContent = 'No photo chosen';
      this.message(refused, true);
    } else {
      this.file = file;
      this.fileSide = null; // its long side, once read: a preview never enlarges the photo
      if (!video && typeof createImageBitmap === 'function') {
        createImageBitmap(file).then((bmp) => {
          if (this.file === file) this.fileSide = Math.max(bmp.width, bmp.height);
          bmp.close();
        }).catch(() => {});
      }
      this.fileName.textContent = file.name;
      this.message('');
    }
    this.refresh();
  }

  refresh() {
    this.button.disabled = this.busy || !this.file || !this.available;
    this.stripButton.disabled = this.button.disabled || this.video;
  }

  settings() {
    const typed = this.seed.value.trim() === '' ? NaN : Number(this.seed.value);
    const seed = Number.isFinite(typed) ? typed : stylizeDefaults().seed;
    return { run: this.runId, checkpoint: this.model.value || undefined, seed: Math.max(0, Math.floor(seed)) };
  }

  // The photo at each noise factor typed (0 to 4, up to 8 of them), small, side by side.
  async runStrip() {
    const factors = this.factors.value.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
    if (!factors.length || factors.length > 8 || factors.some((f) => !Number.isFinite(f) || f < 0 || f > 4)) {
      this.message('Give up to 8 noise factors from 0 to 4, separated by commas.', true);
      return;
    }
    if (!this.file || this.busy) return;
    this.busy = true;
    this.refresh();
    this.message(`Stylizing at ${factors.length} noise factors…`);
    try {
      const outs = [];
      for (const noise of factors) outs.push(await api.stylize({ ...this.settings(), noise, size: STRIP_SIZE }, this.file));
      this.stripUrls.forEach((u) => URL.revokeObjectURL(u));
      this.stripUrls = outs.map((o) => URL.createObjectURL(o.blob));
      replace(this.strip, factors.map((noise, i) => h('button', {
        type: 'button', class: 'strip-pick', dataset: { noise: String(noise) }, 'aria-label': `Render at full size with noise factor ${noise}`,
        onclick: () => {
          this.noise.value = String(noise);
          this.noiseOut.textContent = noise.toFixed(1);
          this.run();
        },
      }, h('img', { src: this.stripUrls[i], alt: `Stylized with noise factor ${noise}` }), h('span', { class: 'small' }, `noise ${noise}`))));
      this.message('');
    } catch (err) {
      this.clearResults();
      this.message(`Could not stylize: ${err.message}`, true);
    }
    this.busy = false;
    this.refresh();
  }

  // A failed render leaves nothing of an earlier photo's on screen under its error.
  clearResults() {
    this.stripUrls.forEach((u) => URL.revokeObjectURL(u));
    this.stripUrls = [];
    if (this.outputUrl) URL.revokeObjectURL(this.outputUrl);
    if (this.inputUrl) URL.revokeObjectURL(this.inputUrl);
    this.outputUrl = null;
    this.inputUrl = null;
    this.strip.replaceChildren();
    this.result.replaceChildren();
    this.shownFile = null;
  }

  message(text, error = false) {
    if (!text) return void this.status.replaceChildren();
    replace(this.status, h('div', { class: `callout ${error ? 'callout-error' : ''}`, role: error ? 'alert' : null, id: error ? 'stylize-error' : null },
      error ? icon('alert') : h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, text)));
  }

  // The chosen photo at the chosen strength: at full size, or (`preview`, on releasing the slider)
  // at PREVIEW_SIZE.
  async run({ preview = false } = {}) {
    if (this.video) return this.runVideo();
    if (!this.file || this.busy) return;
    this.busy = true;
    this.pending = false;
    this.refresh();
    this.message(preview ? 'Stylizing a preview…' : 'Stylizing…');
    try {
      const noise = Number(this.noise.value);
      const out = await api.stylize({ ...this.settings(), noise, ...(preview ? { size: Math.min(PREVIEW_SIZE, this.fileSide || PREVIEW_SIZE) } : {}) }, this.file);
      if (this.outputUrl) URL.revokeObjectURL(this.outputUrl);
      if (this.inputUrl) URL.revokeObjectURL(this.inputUrl);
      this.outputUrl = URL.createObjectURL(out.blob);
      this.inputUrl = URL.createObjectURL(this.file);
      this.shownFile = this.file;
      const base = this.file.name.replace(/\.[^.]+$/, '') || 'photo';
      const name = `${base}-stylized-noise${noise}${preview ? '-preview' : ''}.png`;
      replace(this.result,
        h('div', { class: 'stylize-pair' },
          h('figure', {}, h('img', { src: this.inputUrl, alt: 'Your photo' }), h('figcaption', { class: 'muted small' }, 'Photo')),
          h('figure', {}, h('img', { src: this.outputUrl, alt: `Your photo stylized with noise factor ${noise}`, id: 'stylize-output', dataset: { noise: String(noise), preview: String(preview) } }),
            h('figcaption', { class: 'muted small' }, `${preview ? 'Preview' : 'Stylized'} at noise ${noise}${out.width ? `, ${out.width}×${out.height}` : ''}${out.ms ? ` in ${Math.round(out.ms)} ms` : ''}${preview && !(this.fileSide && this.fileSide <= PREVIEW_SIZE) ? ': Stylize renders it at full size' : ''}`))),
        h('a', { class: 'btn btn-secondary', href: this.outputUrl, download: name, id: 'stylize-download' }, icon('download', 16), 'Download image'));
      this.message('');
    } catch (err) {
      this.clearResults();
      this.message(`Could not stylize: ${err.message}`, true);
    }
    this.busy = false;
    this.refresh();
    if (this.pending && this.file === this.shownFile) this.run({ preview: true }); // the slider moved while this one rendered
  }

  // Every frame with the same noise (no boiling), the sound kept; progress polled until done.
  async runVideo() {
    if (!this.file || this.busy) return;
    this.busy = true;
    this.destroyed = false;
    this.refresh();
    this.message('Uploading the video…');
    try {
      let { job } = await api.startVideo({ ...this.settings(), noise: Number(this.noise.value) }, this.file);
      while (job.state === STATE.queued || job.state === STATE.running) {
        this.message(job.total ? `Stylizing the video: frame ${job.done} of ${job.total}…` : 'Stylizing the video…');
        this.status.querySelector('.callout')?.setAttribute('id', 'video-progress');
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (this.destroyed) return;
        ({ job } = await api.videoJob(job.id));
      }
      if (job.state !== STATE.done) throw new Error(job.error || 'the video job failed');
      replace(this.result,
        h('video', { src: videoFile(job.id), controls: true, id: 'stylize-video', class: 'stylize-video', 'aria-label': `${this.file.name}, stylized` }),
        h('p', { class: 'muted small' }, `${job.done} frames, each with the same noise.`),
        h('a', { class: 'btn btn-secondary', href: videoFile(job.id), download: job.file, id: 'stylize-download' }, icon('download', 16), 'Download video'));
      this.message('');
    } catch (err) {
      this.clearResults();
      this.message(`Could not stylize the video: ${err.message}`, true);
    }
    this.busy = false;
    this.refresh();
  }

  destroy() {
    this.destroyed = true;
    this.stripUrls.forEach((u) => URL.revokeObjectURL(u));
    if (this.outputUrl) URL.revokeObjectURL(this.outputUrl);
    if (this.inputUrl) URL.revokeObjectURL(this.inputUrl);
  }
}
