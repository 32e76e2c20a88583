// The loss curves of several runs on one chart: each run's total (smoothed as on its dashboard)
// and its held-out total (dashed, with points), by iteration, log y. Series follow the rows'
// colours in the compare grid. A texture-synthesis run's total can be negative (its diversity
// term), which a log scale cannot draw: its curve is its style term (its held-out total is that too).
import { h, icon, perFrame, replace } from './dom.js';
import { AXIS, INT_INCRS, lastOf, loadUPlot, logSplits, tick } from './chart.js';
import { int, loss } from './format.js';
import { ema } from './smooth.js';

export const COLOURS = ['#3548c9', '#d9480f', '#0c8599', '#862e9c', '#2b8a3e', '#c2255c'];
const SMOOTHING = 0.6;

export class CompareChart {
  constructor() {
    this.runs = []; // [{id, label, colour, iter: [], total: [], evals: Map(iteration -> total)}]
    this.canvas = h('div', { class: 'chart-canvas', id: 'compare-chart' });
    this.empty = h('div', { class: 'chart-empty muted' }, 'The curves appear with the first iterations.');
    this.el = h('section', { class: 'card chart-card', 'aria-labelledby': 'compare-chart-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'compare-chart-title' }, 'Losses')),
      h('p', { class: 'muted small' }, 'Each run’s total loss (smoothed), and its held-out total (dashed) where checkpoints were evaluated; '
        + 'for a texture-synthesis run, its style term (its total can be negative). '
        + 'The losses are in each run’s own calibrated units: compare their shapes, and the pictures.'),
      h('div', { class: 'chart-wrap' }, this.canvas, this.empty));
    this.schedule = perFrame(() => this.redraw());
    this.resizeObserver = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.resizeObserver.observe(this.canvas);
    loadUPlot().then((U) => {
      this.uPlot = U;
      this.rebuild();
    }).catch(() => replace(this.canvas, h('div', { class: 'callout callout-warn' }, icon('alert'),
      h('span', {}, 'The chart library could not be loaded (/vendor/uplot/).'))));
  }

  // The rows, in order: [{id, label, colour, mode}]. Their data is kept across calls.
  setRuns(rows) {
    const old = new Map(this.runs.map((r) => [r.id, r]));
    this.runs = rows.map((r) => ({ iter: [], total: [], evals: new Map(), ...old.get(r.id), ...r }));
    this.rebuild();
  }

  add(id, event) {
    const run = this.runs.find((r) => r.id === id);
    if (!run) return;
    if (event.type === 'iteration') {
      run.iter.push(event.iteration);
      run.total.push(run.mode === 'synthesis' ? event.style : event.total);
    } else if (event.type === 'eval') {
      run.evals.set(event.iteration, event.total);
    }
    this.schedule();
  }

  // uPlot's columns: x is every iteration any run has, each run's series null where it has none.
  columns() {
    const xs = new Set();
    for (const r of this.runs) {
      r.iter.forEach((i) => xs.add(i));
      r.evals.forEach((_, i) => xs.add(i));
    }
    const x = [...xs].sort((a, b) => a - b);
    const index = new Map(x.map((v, i) => [v, i]));
    const cols = [x];
    for (const r of this.runs) {
      const line = new Array(x.length).fill(null);
      ema(r.total, SMOOTHING).forEach((v, i) => { line[index.get(r.iter[i])] = v > 0 ? v : null; });
      const held = new Array(x.length).fill(null);
      r.evals.forEach((v, i) => { held[index.get(i)] = v > 0 ? v : null; });
      cols.push(line, held);
    }
    return cols;
  }

  size() {
    const width = Math.max(240, Math.floor(this.canvas.clientWidth || 600));
    return { width, height: width < 520 ? 240 : 300 };
  }

  rebuild() {
    if (!this.uPlot) return;
    this.plot?.destroy();
    const value = (u, v, si, idx) => loss(idx === null ? lastOf(u.data[si]) : v);
    const series = [{ label: 'Iteration', value: (u, v, si, idx) => int(idx === null ? lastOf(u.data[0]) : v) }];
    for (const r of this.runs) {
      series.push({ label: r.label, stroke: r.colour, width: 2, points: { show: false }, spanGaps: true, value });
      series.push({ label: `${r.label} (held out)`, stroke: r.colour, width: 1.25, dash: [5, 4], spanGaps: true,
        points: { show: true, size: 6, fill: r.colour }, value });
    }
    this.plot = new this.uPlot({
      ...this.size(),
      class: 'loss-plot',
      scales: { x: { time: false }, y: { distr: 3, log: 10 } },
      axes: [
        { ...AXIS, label: 'Iteration', labelSize: 22, incrs: INT_INCRS, values: (u, ticks) => ticks.map(int) },
        { ...AXIS, size: 60, values: (u, ticks) => ticks.map(tick), splits: logSplits, filter: (u, splits) => splits },
      ],
      series,
      cursor: { drag: { x: true, y: false, setScale: true } },
      legend: { live: true },
    }, this.columns(), this.canvas);
    this.redraw();
  }

  redraw() {
    const points = this.runs.reduce((n, r) => n + r.iter.length, 0);
    this.empty.hidden = points > 0;
    this.el.dataset.points = String(points);
    this.plot?.setData(this.columns());
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
