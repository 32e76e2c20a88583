// A texture-synthesis run's previews (previews.js draws them in its panel): the exemplar (the
// texture as the loss network sees it, previews/exemplar.png) beside the samples of the preview
// seeds (a preview strip: seeds 0, 1, 2, ... side by side, cut here per seed and labelled), and the
// live 2x2 tiling of seed 0's sample (the preview's `tiled` picture), to show there is no seam.
import { h, replace } from './dom.js';
import { runFile } from './api.js';
import { int } from './format.js';
import { stripCrop, swap } from './previews.js';
import { exemplarSrc } from './runinfo.js';

export class SamplesView {
  constructor(runId) {
    this.runId = runId;
    this.exemplar = h('img', { class: 'strip exemplar', alt: 'The texture as the network sees it', id: 'preview-exemplar' });
    this.exemplarFig = h('figure', { class: 'strip-fig exemplar-fig', hidden: true },
      h('figcaption', { class: 'strip-label' }, 'Exemplar'), this.exemplar);
    this.caption = h('figcaption', { class: 'strip-label' }, 'Samples');
    this.seeds = h('div', { class: 'sample-grid', id: 'preview-samples' });
    this.samplesFig = h('figure', { class: 'strip-fig samples-fig', hidden: true }, this.caption, this.seeds);
    this.tiled = h('img', { class: 'strip tiled', alt: '', id: 'preview-tiled' });
    this.tiledCaption = h('figcaption', { class: 'strip-label' }, 'Seed 0 tiled 2×2');
    this.tiledFig = h('figure', { class: 'strip-fig tiled-fig', hidden: true }, this.tiledCaption, this.tiled);
    this.el = h('div', { class: 'synth-previews', hidden: true }, this.exemplarFig, this.samplesFig, this.tiledFig);
    this.key = null;
  }

  started() {
    swap(this.exemplar, exemplarSrc(this.runId), () => { this.exemplarFig.hidden = false; });
  }

  // p: {iteration, path, tiled}; onShown once the samples are drawn.
  show(p, onShown) {
    this.caption.textContent = `Samples at iteration ${int(p.iteration)}, one per seed`;
    const src = runFile(this.runId, p.path);
    if (this.key !== src) {
      this.key = src;
      // How many seeds the strip holds: its width in squares, known once it has loaded.
      const probe = new Image();
      probe.onload = () => {
        if (this.key !== src) return;
        const n = Math.max(1, Math.round(probe.naturalWidth / probe.naturalHeight));
        const small = probe.naturalHeight < 160; // scaled up: crisp pixels
        replace(this.seeds, Array.from({ length: n }, (_, i) => h('figure', { class: 'sample', dataset: { seed: String(i) } },
          stripCrop(src, i, n, `The sample of seed ${i} at iteration ${p.iteration}`, small),
          h('figcaption', { class: 'muted small' }, `seed ${i}`))));
        this.samplesFig.hidden = false;
        onShown?.();
      };
      probe.src = src;
    }
    this.tiledFig.hidden = !p.tiled;
    if (p.tiled) {
      this.tiled.alt = `The sample of seed 0 at iteration ${p.iteration}, laid 2 by 2: no seam should show`;
      swap(this.tiled, runFile(this.runId, p.tiled), null, 260);
    }
  }
}
