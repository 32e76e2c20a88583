// "Stylize a photo": a photo, a model or checkpoint of the run, a noise factor (style
// strength) -> POST /api/stylize -> the image and a download link.
import { h, icon, newId, replace } from './dom.js';
import { api } from './api.js';
import { refuseFile } from './wizard-texture.js';

export class StylizePanel {
  constructor(runId, checkpoints) {
    this.runId = runId;
    this.checkpoints = checkpoints; // a CheckpointList, for choices()
    this.file = null;
    this.inputUrl = null;
    this.outputUrl = null;
    this.busy = false;

    const fileId = 'stylize-file';
    const noiseId = newId('noise');
    const seedId = newId('seed');
    const modelId = newId('stylize-model');
    this.fileInput = h('input', { type: 'file', id: fileId, accept: 'image/*', class: 'sr-only-input' });
    this.fileName = h('span', { class: 'muted small file-name' }, 'No photo chosen');
    this.drop = h('label', { class: 'dropzone dropzone-sm', for: fileId, id: 'stylize-drop' }, this.fileInput, icon('image', 22),
      h('span', {}, h('strong', {}, 'Choose a photo'), ' or drop it here'), this.fileName);
    this.model = h('select', { id: modelId, class: 'input' });
    this.noise = h('input', { id: noiseId, type: 'range', min: 0, max: 4, step: 0.1, value: 1, class: 'range' });
    this.noiseOut = h('output', { for: noiseId, class: 'num' }, '1.0');
    this.seed = h('input', { id: seedId, type: 'number', min: 0, step: 1, value: 0, class: 'input input-num input-sm', inputmode: 'numeric' });
    this.button = h('button', { type: 'submit', class: 'btn btn-primary', id: 'stylize-go', disabled: true }, icon('sparkle', 16), 'Stylize');
    this.status = h('div', { class: 'stylize-status', 'aria-live': 'polite' });
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
      this.status);
    this.unavailable = h('p', { class: 'muted stylize-unavailable' }, 'Try the network on your own photos once the run has saved its first checkpoint.');
    this.el = h('section', { class: 'card stylize-card', 'aria-labelledby': 'stylize-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'stylize-title' }, 'Stylize a photo')),
      this.unavailable, this.form, this.result);

    this.model.addEventListener('change', () => { this.picked = true; });
    this.noise.addEventListener('input', () => { this.noiseOut.textContent = Number(this.noise.value).toFixed(1); });
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
    const refused = refuseFile(file);
    if (refused) {
      this.file = null;
      this.fileName.textContent = 'No photo chosen';
      this.message(refused, true);
    } else {
      this.file = file;
      this.fileName.textContent = file.name;
      this.message('');
    }
    this.refresh();
  }

  refresh() {
    this.button.disabled = this.busy || !this.file || !this.available;
  }

  message(text, error = false) {
    if (!text) return void this.status.replaceChildren();
    replace(this.status, h('div', { class: `callout ${error ? 'callout-error' : ''}`, role: error ? 'alert' : null, id: error ? 'stylize-error' : null },
      error ? icon('alert') : h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, text)));
  }

  async run() {
    if (!this.file || this.busy) return;
    this.busy = true;
    this.refresh();
    this.message('Stylizing…');
    try {
      const noise = Number(this.noise.value);
      const seed = Math.max(0, Math.floor(Number(this.seed.value) || 0));
      const out = await api.stylize({ run: this.runId, checkpoint: this.model.value || undefined, noise, seed }, this.file);
      if (this.outputUrl) URL.revokeObjectURL(this.outputUrl);
      if (this.inputUrl) URL.revokeObjectURL(this.inputUrl);
      this.outputUrl = URL.createObjectURL(out.blob);
      this.inputUrl = URL.createObjectURL(this.file);
      const base = this.file.name.replace(/\.[^.]+$/, '') || 'photo';
      const name = `${base}-stylized-noise${noise}.png`;
      replace(this.result,
        h('div', { class: 'stylize-pair' },
          h('figure', {}, h('img', { src: this.inputUrl, alt: 'Your photo' }), h('figcaption', { class: 'muted small' }, 'Photo')),
          h('figure', {}, h('img', { src: this.outputUrl, alt: `Your photo stylized with noise factor ${noise}`, id: 'stylize-output' }),
            h('figcaption', { class: 'muted small' }, `Stylized${out.width ? `, ${out.width}×${out.height}` : ''}${out.ms ? ` in ${Math.round(out.ms)} ms` : ''}`))),
        h('a', { class: 'btn btn-secondary', href: this.outputUrl, download: name, id: 'stylize-download' }, icon('download', 16), 'Download image'));
      this.message('');
    } catch (err) {
      this.message(`Could not stylize: ${err.message}`, true);
    }
    this.busy = false;
    this.refresh();
  }

  destroy() {
    if (this.outputUrl) URL.revokeObjectURL(this.outputUrl);
    if (this.inputUrl) URL.revokeObjectURL(this.inputUrl);
  }
}
