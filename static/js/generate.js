// "Generate" (a texture-synthesis run's counterpart of "Stylize a photo"): width, height, how many
// samples, the first seed, the 2x2 tiling, a model or checkpoint of the run -> POST
// /api/runs/:id/synthesize -> each sample (and its tiling) shown with a download link. The worker
// saves the PNGs in the run folder (samples/); the links fetch them as any run file.
import { h, icon, newId, replace } from './dom.js';
import { api, runFile } from './api.js';
import { synthesizeLimits } from './protocol.js';

// A whole number from min to max typed in `input`, or null.
function whole(input, min, max) {
  const n = Number(input.value.trim());
  return input.value.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : null;
}

export class GeneratePanel {
  // `networks.choices()`: [{value: checkpoint file or '' for the model, label}] (a CheckpointList).
  constructor(runId, networks) {
    this.runId = runId;
    this.networks = networks;
    this.busy = false;
    const field = (label, input, hint) => h('div', { class: 'field' }, h('label', { for: input.id, class: 'label' }, label), input,
      hint ? h('p', { class: 'hint' }, hint) : null);
    const num = (name, value, min, max) => h('input', {
      id: newId(`generate-${name}`), name, type: 'number', min, max, step: 1, value, class: 'input input-num input-sm', inputmode: 'numeric',
    });
    this.model = h('select', { id: newId('generate-model'), class: 'input' });
    const { side: MAX_SIDE, count: MAX_COUNT } = synthesizeLimits();
    this.width = num('width', 1024, 1, MAX_SIDE);
    this.height = num('height', 1024, 1, MAX_SIDE);
    this.count = num('count', 1, 1, MAX_COUNT);
    this.seed = num('seed', 0, 0, 2 ** 31 - 1);
    this.tile = h('input', { type: 'checkbox', id: newId('generate-tile'), name: 'tile', checked: true });
    this.button = h('button', { type: 'submit', class: 'btn btn-primary', id: 'generate-go' }, icon('sparkle', 16), 'Generate');
    this.status = h('div', { class: 'stylize-status', 'aria-live': 'polite' });
    this.result = h('div', { class: 'generate-result', id: 'generate-result' });
    this.form = h('form', { class: 'stylize-form generate-form', novalidate: true },
      field('Network', this.model),
      h('div', { class: 'generate-fields' },
        field('Width (px)', this.width), field('Height (px)', this.height),
        field('Samples', this.count), field('First seed', this.seed)),
      h('p', { class: 'hint' }, `Any size up to ${MAX_SIDE} px a side; each seed gives its own sample, the same every time. `
        + 'Every sample tiles without a seam.'),
      h('label', { class: 'check', for: this.tile.id }, this.tile, h('span', {}, 'Also show each sample tiled 2×2 (to check for seams)')),
      h('div', { class: 'stylize-actions' }, this.button),
      this.status);
    this.unavailable = h('p', { class: 'muted stylize-unavailable' }, 'Generate textures of any size once the run has saved its first checkpoint.');
    this.el = h('section', { class: 'card stylize-card generate-card', 'aria-labelledby': 'generate-title', id: 'generate' },
      h('div', { class: 'card-head' }, h('h2', { id: 'generate-title' }, 'Generate')),
      this.unavailable, this.form, this.result);
    this.model.addEventListener('change', () => { this.picked = true; });
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.run();
    });
  }

  // Usable once the run has a model or a checkpoint.
  update() {
    const choices = this.networks.choices();
    this.available = choices.length > 0;
    this.form.hidden = !this.available;
    this.unavailable.hidden = this.available;
    const key = JSON.stringify(choices);
    if (key !== this.choicesKey) {
      this.choicesKey = key;
      // The newest network is preselected, until one is picked by hand.
      const was = this.model.value;
      replace(this.model, choices.map((c) => h('option', { value: c.value }, c.label)));
      if (this.picked && choices.some((c) => c.value === was)) this.model.value = was;
    }
    this.button.disabled = this.busy || !this.available;
  }

  message(text, error = false) {
    if (!text) return void this.status.replaceChildren();
    replace(this.status, h('div', { class: `callout ${error ? 'callout-error' : ''}`, role: error ? 'alert' : null, id: error ? 'generate-error' : null },
      error ? icon('alert') : h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, text)));
  }

  // The request, or null (and a message) when a field is out of bounds.
  body() {
    const { side: MAX_SIDE, count: MAX_COUNT } = synthesizeLimits();
    const width = whole(this.width, 1, MAX_SIDE);
    const height = whole(this.height, 1, MAX_SIDE);
    const count = whole(this.count, 1, MAX_COUNT);
    const seed = whole(this.seed, 0, 2 ** 31 - 1);
    const bad = [[width, `width: 1 to ${MAX_SIDE} px`], [height, `height: 1 to ${MAX_SIDE} px`], [count, `samples: 1 to ${MAX_COUNT}`],
      [seed, 'seed: a whole number, 0 or more']].filter(([v]) => v === null).map(([, why]) => why);
    if (bad.length) {
      this.message(`Give ${bad.join('; ')}.`, true);
      return null;
    }
    return { width, height, count, seed, tile: this.tile.checked ? 2 : 0, checkpoint: this.model.value || undefined };
  }

  async run() {
    if (this.busy) return;
    const body = this.body();
    if (!body) return;
    this.busy = true;
    this.update();
    this.message(`Generating ${body.count === 1 ? 'a sample' : `${body.count} samples`} of ${body.width}×${body.height} px…`);
    try {
      const out = await api.synthesize(this.runId, body);
      replace(this.result, out.samples.map((s) => this.sample(s, out)),
        h('p', { class: 'muted small' }, `${out.width}×${out.height} px, ${out.samples.length === 1 ? 'made' : `${out.samples.length} made`} in ${(out.ms / 1000).toFixed(1)} s.`));
      this.message('');
    } catch (err) {
      this.message(`Could not generate: ${err.message}`, true);
    }
    this.busy = false;
    this.update();
  }

  // One sample: its picture and download, and its tiling's when there is one.
  sample({ seed, path, tiled }, { width, height }) {
    const link = (file, text, id) => h('a', { class: 'btn btn-secondary btn-sm', href: runFile(this.runId, file), download: `${this.runId}-${file.split('/').pop()}`, id },
      icon('download', 16), text);
    const figure = (file, alt, caption) => h('figure', {},
      h('a', { href: runFile(this.runId, file), target: '_blank', rel: 'noopener', 'aria-label': `${caption}: open at full size` }, h('img', { src: runFile(this.runId, file), alt, class: 'generated' })),
      h('figcaption', { class: 'muted small' }, caption));
    return h('div', { class: 'generated-sample', dataset: { seed: String(seed) } },
      h('div', { class: 'generated-figures' },
        figure(path, `Sample of seed ${seed}, ${width} by ${height} pixels`, `Seed ${seed}, ${width}×${height}`),
        tiled ? figure(tiled, `Sample of seed ${seed} tiled 2 by 2`, `Tiled 2×2, ${width * 2}×${height * 2}`) : null),
      h('div', { class: 'generated-links' },
        link(path, `Download seed ${seed} (PNG)`, `generate-download-${seed}`),
        tiled ? link(tiled, 'Download the tiling (PNG)', `generate-download-tiled-${seed}`) : null));
  }

  destroy() {}
}
