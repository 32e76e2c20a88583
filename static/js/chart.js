// Live loss curves (style, content, total) with uPlot: EMA smoothing, linear or log y, x by
// iteration or elapsed time; and the held-out total (eval events: photos never trained on) as
// points at the start and at each checkpoint, unsmoothed. uPlot is loaded on demand, so the rest of the dashboard works
// even if it could not be.
// A texture-synthesis run (setMode('synthesis')) has no content term: its curves are the style term,
// the diversity term, the distance between samples and the total. The diversity term (minus
// diversity x the mean log nearest-sample distance) and so the total can be negative, which a log
// scale cannot draw: on the log scale the chart shows the two positive curves (style, distance) and
// says so; the linear scale shows all four.
import { h, icon, newId, perFrame, replace } from './dom.js';
import { clock, int, loss } from './format.js';
import { ema } from './smooth.js';

let uPlotModule = null;
export function loadUPlot() {
  uPlotModule ??= import('/vendor/uplot/uPlot.esm.js').then((m) => m.default);
  return uPlotModule;
}

// Tick labels: 0.01, 1, 250, 1e-4, 2e5.
export function tick(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(3)));
  const [m, e] = v.toExponential(1).split('e');
  return `${m.replace(/\.0$/, '')}e${Number(e)}`;
}

// Log-scale grid: powers of ten (every other one over many decades), with 2 and 5 when the
// range is narrow.
export function logSplits(u, axisIdx, min, max) {
  if (!(min > 0) || !(max > 0)) return [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const step = Math.max(1, Math.ceil((hi - lo) / 6));
  const mults = hi - lo <= 2 ? [1, 2, 5] : [1];
  const out = [];
  for (let e = lo; e <= hi; e += step) {
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
  }
  return out;
}

export const lastOf = (arr) => {
  for (let i = arr.length - 1; i >= 0; i--) if (arr[i] !== null && arr[i] !== undefined) return arr[i];
  return null;
};

// Whole iterations; round seconds, minutes and hours.
export const INT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000, 200000, 500000, 1e6];
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

// Total last: drawn on top (it often lies over the content curve). `signed`: can be negative.
const SERIES = {
  stylize: [
    { key: 'style', label: 'Style', stroke: '#d9480f', width: 1.5 },
    { key: 'content', label: 'Content', stroke: '#0c8599', width: 1.5 },
    { key: 'total', label: 'Total', stroke: '#3548c9', width: 2.25 },
  ],
  synthesis: [
    { key: 'style', label: 'Style', stroke: '#d9480f', width: 1.5 },
    { key: 'distance', label: 'Distance between samples', stroke: '#2b8a3e', width: 1.5 },
    { key: 'diversity', label: 'Diversity term', stroke: '#0c8599', width: 1.5, signed: true },
    { key: 'total', label: 'Total', stroke: '#3548c9', width: 2.25, signed: true },
  ],
};
// The held-out curve: the total on held-out photos; for synthesis, the style term of the held-out
// seeds' samples (its eval total, which has no diversity term).
const HELD_OUT = { stroke: '#862e9c', width: 1.5, dash: [5, 4], spanGaps: true, points: { show: true, size: 7, fill: '#862e9c' } };
const HELD_OUT_LABEL = { stylize: 'Held-out total', synthesis: 'Held-out style' };
const LOG_NOTE = 'Log scale: the diversity term and the total can be negative, so only the style term and the distance '
  + 'between samples (both positive) are drawn. Linear shows all four.';

function segmented(name, legend, options, value, onChange) {
  const group = h('fieldset', { class: 'segmented' }, h('legend', { class: 'sr-only' }, legend));
  for (const [v, text] of options) {
    const id = newId(`${name}-${v}`);
    const input = h('input', { type: 'radio', name, value: v, id, checked: v === value, class: 'sr-only-input' });
    input.addEventListener('change', () => onChange(v));
    group.append(input, h('label', { for: id }, text));
  }
  return group;
}

export const AXIS = { stroke: '#5b6473', grid: { stroke: '#eceff4', width: 1 }, ticks: { stroke: '#dfe3ea', width: 1 }, font: '12px system-ui, sans-serif', labelFont: '12px system-ui, sans-serif' };

export class LossChart {
  constructor() {
    this.data = { iter: [], time: [], style: [], content: [], diversity: [], distance: [], total: [] };
    this.mode = 'stylize';
    this.evals = []; // {iteration, t, total}, in iteration order
    this.smoothing = Number(localStorage.getItem('tn-studio.smoothing') ?? 0.6);
    this.log = (localStorage.getItem('tn-studio.scale') ?? 'log') === 'log';
    this.xMode = localStorage.getItem('tn-studio.x') === 'time' ? 'time' : 'iter';
    this.plot = null;
    this.uPlot = null;

    const smoothId = newId('smoothing');
    this.smoothOut = h('output', { for: smoothId, class: 'num' }, this.smoothing.toFixed(2));
    const slider = h('input', { id: smoothId, type: 'range', min: 0, max: 0.99, step: 0.01, value: this.smoothing, class: 'range' });
    slider.addEventListener('input', () => {
      this.smoothing = Number(slider.value);
      this.smoothOut.textContent = this.smoothing.toFixed(2);
      localStorage.setItem('tn-studio.smoothing', String(this.smoothing));
      this.redraw();
    });
    this.canvas = h('div', { class: 'chart-canvas', id: 'loss-chart' });
    this.summary = h('p', { class: 'sr-only' });
    this.empty = h('div', { class: 'chart-empty muted' }, 'The curves appear with the first iteration.');
    this.note = h('p', { class: 'muted small chart-note', id: 'balance-note', hidden: true });
    this.scaleNote = h('p', { class: 'muted small chart-note', id: 'scale-note', hidden: true });
    this.el = h('section', { class: 'card chart-card', 'aria-labelledby': 'chart-title', dataset: { points: '0' } },
      h('div', { class: 'card-head' },
        h('h2', { id: 'chart-title' }, 'Losses'),
        h('div', { class: 'chart-controls' },
          h('div', { class: 'control' }, h('label', { for: smoothId, class: 'label small' }, 'Smoothing'), slider, this.smoothOut),
          segmented(newId('scale'), 'Y scale', [['linear', 'Linear'], ['log', 'Log']], this.log ? 'log' : 'linear', (v) => {
            this.log = v === 'log';
            localStorage.setItem('tn-studio.scale', v);
            this.rebuild();
          }),
          segmented(newId('xaxis'), 'X axis', [['iter', 'Iteration'], ['time', 'Time']], this.xMode, (v) => {
            this.xMode = v;
            localStorage.setItem('tn-studio.x', v);
            this.rebuild();
          }))),
      this.note, this.scaleNote,
      h('div', { class: 'chart-wrap' }, this.summary, this.canvas, this.empty),
      h('p', { class: 'muted small chart-hint' }, 'Drag across the chart to zoom, double-click to reset. Click a legend entry to hide its curve.'));
    this.schedule = perFrame(() => this.redraw());
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.canvas);
    loadUPlot().then((U) => {
      this.uPlot = U;
      this.rebuild();
    }).catch(() => {
      replace(this.canvas, h('div', { class: 'callout callout-warn' }, icon('alert'), h('span', {}, 'The chart library could not be loaded (/vendor/uplot/). The numbers above are still live.')));
    });
  }

  get points() {
    return this.data.iter.length;
  }

  // One iteration event; t is seconds since the run started.
  add(event, t) {
    const d = this.data;
    d.iter.push(event.iteration);
    d.time.push(t);
    d.style.push(event.style);
    for (const key of ['content', 'diversity', 'distance']) d[key].push(event[key] ?? null);
    d.total.push(event.total);
    this.el.dataset.points = String(d.iter.length);
    this.el.dataset.lastIteration = String(event.iteration);
    this.schedule();
  }

  // 'stylize' or 'synthesis': which curves there are.
  setMode(mode) {
    if (mode === this.mode || !SERIES[mode]) return;
    this.mode = mode;
    this.el.dataset.mode = mode;
    this.rebuild();
  }

  // The curves drawn: on a log scale, only those that cannot be negative.
  shown() {
    return SERIES[this.mode].filter((s) => !(this.log && s.signed));
  }

  // The line under the title that says what the loss units mean ('' hides it).
  setNote(text) {
    if (this.note.textContent !== text) this.note.textContent = text;
    this.note.hidden = !text;
  }

  // One eval event: the held-out losses at a checkpoint (iteration 0: before training).
  addEval(event, t) {
    this.evals = this.evals.filter((e) => e.iteration !== event.iteration);
    this.evals.push({ iteration: event.iteration, t, total: event.total });
    this.evals.sort((a, b) => a.iteration - b.iteration);
    this.el.dataset.evals = String(this.evals.length);
    this.schedule();
  }

  // uPlot's columns. A held-out point sits on its checkpoint's iteration; one before the first
  // iteration (the untrained network) gets a row of its own.
  series() {
    const d = this.data;
    const time = this.xMode === 'time';
    const clean = (arr) => (this.log ? arr.map((v) => (v > 0 ? v : null)) : arr);
    const byIteration = new Map(this.evals.map((e) => [e.iteration, e.total]));
    const early = this.evals.filter((e) => !(e.iteration >= d.iter[0]));
    const blank = early.map(() => null);
    return [
      [...early.map((e) => (time ? e.t : e.iteration)), ...(time ? d.time : d.iter)],
      ...this.shown().map((s) => [...blank, ...clean(ema(d[s.key], this.smoothing))]),
      clean([...early.map((e) => e.total), ...d.iter.map((it) => byIteration.get(it) ?? null)]),
    ];
  }

  size() {
    const width = Math.max(240, Math.floor(this.canvas.clientWidth || 600));
    const height = width < 520 ? 240 : 320;
    return { width, height };
  }

  rebuild() {
    this.scaleNote.textContent = LOG_NOTE;
    this.scaleNote.hidden = !(this.log && SERIES[this.mode].some((s) => s.signed));
    if (!this.uPlot) return;
    this.plot?.destroy();
    const time = this.xMode === 'time';
    const axis = AXIS;
    const opts = {
      ...this.size(),
      class: 'loss-plot',
      scales: { x: { time: false }, y: this.log ? { distr: 3, log: 10 } : { distr: 1 } },
      axes: [
        { ...axis, label: time ? 'Elapsed' : 'Iteration', labelSize: 22, incrs: time ? TIME_INCRS : INT_INCRS, values: (u, ticks) => ticks.map((v) => (time ? clock(v) : int(v))) },
        { ...axis, size: 60, values: (u, ticks) => ticks.map(tick), ...(this.log ? { splits: logSplits, filter: (u, splits) => splits } : {}) },
      ],
      series: [
        // Away from the cursor, the legend shows the latest values.
        { label: time ? 'Elapsed' : 'Iteration', value: (u, v, si, idx) => { const x = idx === null ? lastOf(u.data[0]) : v; return x === null ? '–' : time ? clock(x) : int(x); } },
        ...this.shown().map((s) => ({ label: s.label, stroke: s.stroke, width: s.width, points: { show: false }, value: (u, v, si, idx) => loss(idx === null ? lastOf(u.data[si]) : v) })),
        { ...HELD_OUT, label: HELD_OUT_LABEL[this.mode], value: (u, v, si, idx) => loss(idx === null ? lastOf(u.data[si]) : v) },
      ],
      cursor: { drag: { x: true, y: false, setScale: true } },
      legend: { live: true },
    };
    this.plot = new this.uPlot(opts, this.series(), this.canvas);
    this.redraw();
  }

  redraw() {
    this.empty.hidden = this.points > 0;
    const d = this.data;
    const n = d.iter.length;
    const held = this.evals.at(-1);
    const parts = this.mode === 'synthesis'
      ? `style ${loss(d.style[n - 1])}, diversity term ${loss(d.diversity[n - 1])}, distance between samples ${loss(d.distance[n - 1])}`
      : `style ${loss(d.style[n - 1])}, content ${loss(d.content[n - 1])}`;
    this.summary.textContent = (n
      ? `Loss curves over ${n} iterations; latest total ${loss(d.total[n - 1])}, ${parts}`
        + (held ? `; ${HELD_OUT_LABEL[this.mode].toLowerCase()} ${loss(held.total)} at iteration ${int(held.iteration)}` : '')
      : 'Loss curves: no iterations yet');
    if (!this.plot) return;
    this.plot.setData(this.series());
  }

  resize() {
    if (this.plot) this.plot.setSize(this.size());
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
