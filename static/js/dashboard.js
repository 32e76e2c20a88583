// A run's dashboard (#/runs/:id): progress, live loss curves, previews, checkpoints, stylize (or,
// for a texture-synthesis run, generate), stop / download, and why a failed run failed. The run's
// facts (state, times, device, calibration, checkpoints, model, error) are its RunInfo, kept by the
// store from run_state messages; the events (history first, then live, from the socket
// subscription) feed only the chart, the previews, the notices and the progress between two
// RunInfos. Each part is a component (dashboard-header.js, dashboard-actions.js,
// dashboard-notices.js, dashboard-progress.js, chart.js, previews.js, checkpoints.js, stylize.js,
// generate.js); this file hands them the RunInfo and the events, and draws them at most once a frame.
import { h, icon, perFrame } from './dom.js';
import { api } from './api.js';
import * as socket from './socket.js';
import * as store from './store.js';
import { isActive, isEnded } from './protocol.js';
import { activeContinuation, balanceNote } from './runinfo.js';
import { RunHeader } from './dashboard-header.js';
import { RunActions } from './dashboard-actions.js';
import { FailureCard, RunAlerts } from './dashboard-notices.js';
import { ProgressCard, firstPreviewText } from './dashboard-progress.js';
import { LossChart } from './chart.js';
import { PreviewPanel } from './previews.js';
import { CheckpointList } from './checkpoints.js';
import { StylizePanel } from './stylize.js';
import { GeneratePanel } from './generate.js';
import { currentPath, navigate } from './router.js';

const backLink = () => h('a', { class: 'back-link', href: '#/' }, icon('back', 16), 'All runs');

export function dashboardView(container, { id }) {
  document.title = `Run ${id} · TN Studio`;
  const dashboard = new RunDashboard(container, id);
  return () => dashboard.destroy();
}

class RunDashboard {
  constructor(container, id) {
    this.container = container;
    this.id = id;
    this.run = store.getRun(id) || null;
    this.destroyed = false;
    this.notFound = false;
    this.actionError = null;
    // What the events say: the chart's time origin, the newest iteration, the notices. own: this
    // run's own (latest) training, not its source's history a continued run starts with: its start
    // event and first iteration event, for the average speed.
    this.ev = { t0: null, lastIteration: null, warnings: new Set(), download: null, mode: null, ownStart: null, ownFirst: null };
    this.renderAll = perFrame(() => this.render());
    this.build();
    this.follow();
    this.renderAll();
  }

  build() {
    const id = this.id;
    this.header = new RunHeader(id);
    this.actions = new RunActions(id, {
      onError: (text) => { this.actionError = text; this.renderAll(); },
      onChange: () => this.renderAll(),
    });
    this.failure = new FailureCard();
    this.alerts = new RunAlerts();
    this.progress = new ProgressCard();
    this.chart = new LossChart();
    this.previews = new PreviewPanel(id);
    this.checkpoints = new CheckpointList(id, this.previews);
    this.stylize = new StylizePanel(id, this.checkpoints);
    this.generate = new GeneratePanel(id, this.checkpoints);
    // Neither until the run's mode is known (its RunInfo or start event): no flash of the wrong one.
    this.stylize.el.hidden = true;
    this.generate.el.hidden = true;
    // Hidden for a run that failed before its first iteration: nothing to show there.
    this.body = h('div', { class: 'dash-body' }, this.progress.el, this.chart.el, this.previews.el,
      h('div', { class: 'dash-grid' }, this.checkpoints.el, this.stylize.el, this.generate.el));
    this.container.append(backLink(),
      h('div', { class: 'page-head run-head-row' }, this.header.el, this.actions.el),
      this.failure.el, this.alerts.el, this.body);
  }

  // The run's mode once known: its RunInfo, else its start event (which can come first).
  knownMode() {
    return this.run?.mode || this.run?.config?.mode || this.ev.mode || null;
  }

  render() {
    if (this.destroyed) return;
    const { run, ev } = this;
    this.renderMode();
    const blocker = activeContinuation(run, store.allRuns());
    this.header.update(run, this.knownMode());
    this.actions.update(run, blocker);
    this.failure.update(run);
    this.alerts.update(run, { warnings: ev.warnings, download: ev.download, actionError: this.actionError, blocker });
    this.renderProgress();
    this.chart.setNote(balanceNote(run));
    this.body.hidden = isEnded(run?.state) && this.chart.points === 0 && !run?.checkpoints?.length && !run?.model;
    this.checkpoints.set(run?.checkpoints);
    if (run?.model) this.checkpoints.setModel(run.model, run.model_iteration ?? run.iteration);
    this.stylize.update();
    this.generate.update();
  }

  renderMode() {
    const mode = this.knownMode();
    if (!mode) return;
    this.chart.setMode(mode);
    this.previews.setMode(mode);
    this.stylize.el.hidden = mode === 'synthesis';
    this.generate.el.hidden = mode !== 'synthesis';
    this.progress.setMode(mode);
  }

  renderProgress() {
    const { iteration, speed } = this.progress.update(this.run, this.ev);
    this.previews.setEmptyText(firstPreviewText(this.run, iteration, speed));
  }

  onEvent({ event }) {
    if (!event || typeof event !== 'object') return;
    const ev = this.ev;
    switch (event.type) {
      case 'start':
        ev.t0 ??= event.time;
        this.onStart(event);
        break;
      case 'iteration':
        ev.t0 ??= event.time;
        ev.lastIteration = event;
        if (ev.ownStart && !ev.ownFirst && event.iteration >= ev.ownStart.iteration) ev.ownFirst = event;
        this.chart.add(event, event.time - ev.t0);
        break;
      case 'preview':
        this.previews.add(event.iteration, event.path, event.tiled);
        this.checkpoints.render();
        break;
      case 'eval':
        ev.t0 ??= event.time;
        this.chart.addEval(event, event.time - ev.t0);
        break;
      case 'warning':
        ev.warnings.add(event.message);
        break;
      case 'download':
        ev.download = event;
        break;
      default: // done, error, checkpoint: facts the RunInfo brings
        break;
    }
    this.renderAll();
  }

  // A continued run's history holds its source's start events too: only the one naming this run's
  // folder starts its own training.
  onStart(event) {
    const ev = this.ev;
    if (!event.run_dir || String(event.run_dir).replace(/\/+$/, '').split('/').pop() === this.id) {
      ev.ownStart = event;
      ev.ownFirst = null;
    }
    ev.mode ??= event.mode || 'stylize';
    this.previews.started(this.knownMode());
  }

  showNotFound(message) {
    if (this.notFound || this.destroyed) return;
    this.notFound = true;
    this.container.replaceChildren(backLink(),
      h('section', { class: 'card empty' }, h('h1', {}, 'Run not found'),
        h('p', {}, message || `There is no run ${this.id}.`),
        h('a', { class: 'btn btn-primary', href: '#/' }, 'See all runs')));
  }

  // The RunInfo from the store as it changes, the events from the socket, and a clock for the
  // times that move between events.
  follow() {
    this.offRuns = store.onRuns((changed) => this.onRunsChanged(changed));
    this.unsubscribe = socket.subscribe(this.id, {
      after: 0,
      onEvent: (msg) => this.onEvent(msg),
      onReset: () => navigate(currentPath()), // its log was replaced: the page reads the new one
      onAck: (ack) => {
        if (!ack.ok && /no run/i.test(ack.error || '')) this.showNotFound(ack.error);
      },
    });
    // The run's own refresh: the state may have moved while this page was closed.
    this.refreshRun();
    this.ticker = setInterval(() => {
      if (isActive(this.run?.state ?? null)) this.renderProgress();
    }, 1000);
  }

  refreshRun() {
    if (!store.workerUp()) return; // the store refreshes every run when it is back
    api.run(this.id).then((res) => {
      if (!this.destroyed && res.run) store.upsertRun(res.run);
    }).catch((err) => {
      if (err.status === 404) this.showNotFound(err.message);
    });
  }

  onRunsChanged(changed) {
    const { id, run } = this;
    if (changed !== null && changed !== id) {
      if (run && isEnded(run.state)) this.renderAll(); // a run continuing from this one may have started or ended
      return;
    }
    const next = store.getRun(id);
    if (!next) {
      if (run && changed === id && currentPath().startsWith('/runs/')) this.showNotFound('This run was deleted.');
      return;
    }
    this.run = next;
    this.renderAll();
  }

  destroy() {
    this.destroyed = true;
    clearInterval(this.ticker);
    this.unsubscribe();
    this.offRuns();
    this.actions.destroy();
    this.chart.destroy();
    this.stylize.destroy();
    this.generate.destroy();
  }
}
