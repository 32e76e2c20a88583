// Checkpoints of a run: each with the preview of the same iteration (when there is one) and a
// download; the final model first when there is one.
import { h, icon, replace } from './dom.js';
import { exportUrl, runFile } from './api.js';
import { int } from './format.js';
import { exportFormats } from './protocol.js';

// How the formats of GET /api/runs/:id/export are named on the page; which formats there are is
// protocol.json's (a new one shows under its own name until it has a label here).
const EXPORT_LABELS = { onnx: 'ONNX', pt2: 'PT2', torchscript: 'TorchScript' };
const exportsShown = () => Object.keys(exportFormats()).map((format) => [format, EXPORT_LABELS[format] || format]);

export class CheckpointList {
  constructor(runId, previews) {
    this.runId = runId;
    this.previews = previews; // a PreviewPanel, for pathAt(iteration)
    this.checkpoints = []; // [{iteration, path}]
    this.model = null;
    this.list = h('ul', { class: 'ckpt-list', id: 'checkpoints' });
    this.el = h('section', { class: 'card ckpt-card', 'aria-labelledby': 'ckpt-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'ckpt-title' }, 'Checkpoints')),
      this.list);
    this.render();
  }

  // The RunInfo's checkpoints ([{iteration, path}]).
  set(checkpoints = []) {
    this.checkpoints = [...checkpoints].sort((a, b) => b.iteration - a.iteration);
    this.render();
  }

  setModel(path, iteration) {
    this.model = path ? { path, iteration: iteration || null } : null;
    this.render();
  }

  row({ path, iteration }, label, primary) {
    const preview = iteration !== null && iteration !== undefined ? this.previews.pathAt(iteration) : null;
    const name = path.split('/').pop();
    return h('li', { class: `ckpt${primary ? ' ckpt-model' : ''}`, dataset: { iteration: iteration ?? '' } },
      preview
        ? h('img', { class: 'ckpt-thumb', src: runFile(this.runId, preview), alt: `Preview at iteration ${iteration}`, loading: 'lazy' })
        : h('div', { class: 'ckpt-thumb ckpt-thumb-empty', 'aria-hidden': 'true' }, icon('image', 18)),
      h('div', { class: 'ckpt-text' }, h('strong', {}, label), h('span', { class: 'muted small' }, name),
        primary ? h('span', { class: 'small ckpt-exports' }, 'Export: ', exportsShown().map(([format, text], i) => [i ? ' · ' : '',
          h('a', { href: exportUrl(this.runId, format), download: '', id: `export-${format}`, title: `The model as ${text}, for use without TN Studio (README: Export)` }, text)])) : null),
      h('a', {
        class: `btn btn-sm ${primary ? 'btn-primary' : 'btn-secondary'}`, href: runFile(this.runId, path), download: `${this.runId}-${name}`,
        'aria-label': `Download ${label.toLowerCase()} (${name})`,
      }, icon('download', 16), 'Download'));
  }

  render() {
    // Re-rendered only when something shown changed (thumbnails must not reload).
    const key = JSON.stringify([this.model, this.checkpoints.map((c) => [c.iteration, c.path, this.previews.pathAt(c.iteration)])]);
    if (key === this.key) return;
    this.key = key;
    const rows = [];
    if (this.model) rows.push(this.row(this.model, this.model.iteration ? `Final model (iteration ${int(this.model.iteration)})` : 'Final model', true));
    for (const c of this.checkpoints) rows.push(this.row(c, `Iteration ${int(c.iteration)}`, false));
    if (!rows.length) {
      replace(this.list, h('li', { class: 'muted ckpt-empty' }, 'No checkpoint yet. One is saved every few hundred iterations, and when the run ends or is stopped.'));
      return;
    }
    replace(this.list, rows);
  }

  // Choices for the stylize panel: [{value, label}], the final model first.
  choices() {
    const out = [];
    if (this.model) out.push({ value: '', label: 'Final model' });
    for (const c of this.checkpoints) out.push({ value: c.path.split('/').pop(), label: `Checkpoint at iteration ${int(c.iteration)}` });
    return out;
  }
}
