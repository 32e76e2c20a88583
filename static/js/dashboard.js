// A run's dashboard (#/runs/:id): progress, live loss curves, previews, checkpoints, stylize (or,
// for a texture-synthesis run, generate), stop / download, and why a failed run failed. The run's facts (state, times, device,
// calibration, checkpoints, model, error) are its RunInfo, kept by the store from run_state
// messages; the events (history first, then live, from the socket subscription) feed only the
// chart, the previews, the notices and the progress between two RunInfos.
import { h, icon, perFrame, renderIf, replace } from './dom.js';
import { api, runFile } from './api.js';
import * as socket from './socket.js';
import * as store from './store.js';
import { badge } from './badges.js';
import { STATE, isActive, isEnded } from './protocol.js';
import { bytes, duration, int, loss, rate, roughDuration, title, when } from './format.js';
import { MODE_LABELS, activeContinuation, balanceNote, itPerS, originNote, progressFraction, renameRun, runMode, runName, settingOf, textureName, textureSrc } from './runinfo.js';
import { LossChart } from './chart.js';
import { PreviewPanel } from './previews.js';
import { CheckpointList } from './checkpoints.js';
import { StylizePanel } from './stylize.js';
import { GeneratePanel } from './generate.js';
import { confirmDialog, promptDialog } from './confirm.js';
import { flashOnRuns } from './runs.js';
import { continueDialog } from './continue.js';
import { prefillWizard } from './wizard.js';
import { currentPath, navigate } from './router.js';

// A run that failed for its VGG-19 weights (models/vgg.py's refusals all name them), worded in the
// page's terms: what happened, and where to fix it. null for any other failure.
function weightsFailure(message, spec = 'imagenet') {
  if (!/VGG-19 (weights|state dict)/.test(message)) return null;
  const what = spec === 'imagenet' || !spec
    ? 'The ImageNet VGG-19 weights, which the losses are measured with, are not on this machine and could not be downloaded.'
    : ['The VGG-19 weights file ', h('code', {}, spec), /is not a file/.test(message) ? ' does not exist on the machine that trains.' : ' does not load as VGG-19 weights.'];
  return [h('strong', {}, 'No VGG-19 weights. '), what, ' ', h('strong', {}, 'Run again…'),
    ' opens the wizard at the weights setting, with this run’s photos, texture and settings: choose a weights file there, or random weights for a try.'];
}

function stat(label, id) {
  const value = h('dd', { id, class: 'num' }, '–');
  return { el: h('div', { class: 'stat' }, h('dt', {}, label), value), value };
}

export function dashboardView(container, { id }) {
  document.title = `Run ${id} · TN Studio`;
  let run = store.getRun(id) || null;
  let destroyed = false;
  let actionError = null;

  // What the events say: the chart's time origin, the newest iteration, the notices.
  // own: this run's own (latest) training, not its source's history a continued run starts with:
  // its start event and first iteration event, for the average speed.
  const ev = { t0: null, lastIteration: null, warnings: new Set(), download: null, mode: null, ownStart: null, ownFirst: null };

  // -- layout ------------------------------------------------------------------------------
  const titleEl = h('h1', { class: 'run-h1' }, 'Run');
  const badgeSlot = h('span', { id: 'run-state' });
  const subline = h('p', { class: 'page-sub run-meta' });
  const texThumb = h('img', { class: 'head-texture', alt: '', width: 52, height: 52 });
  const actions = h('div', { class: 'head-actions' });
  const alerts = h('div', { class: 'alerts' });
  const failure = h('div', { class: 'failure-slot' });

  const bar = h('div', { class: 'bar-fill' });
  const barWrap = h('div', { class: 'bar bar-lg', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-label': 'Training progress', id: 'progress' }, bar);
  const progressText = h('p', { class: 'progress-text', id: 'progress-text' });
  const sIt = stat('Speed', 'stat-speed');
  const sElapsed = stat('Elapsed', 'stat-elapsed');
  const sEta = stat('Remaining', 'stat-eta');
  const sLoss = stat('Total loss', 'stat-loss');
  const progressCard = h('section', { class: 'card progress-card', 'aria-label': 'Progress' },
    h('div', { class: 'progress-top' }, progressText),
    barWrap,
    h('dl', { class: 'stats' }, sIt.el, sElapsed.el, sEta.el, sLoss.el));

  const chart = new LossChart();
  const previews = new PreviewPanel(id);
  const checkpoints = new CheckpointList(id, previews);
  const stylize = new StylizePanel(id, checkpoints);
  const generate = new GeneratePanel(id, checkpoints);
  // Neither until the run's mode is known (its RunInfo or start event): no flash of the wrong one.
  stylize.el.hidden = true;
  generate.el.hidden = true;

  // Hidden for a run that failed before its first iteration: nothing to show there.
  const body = h('div', { class: 'dash-body' }, progressCard, chart.el, previews.el,
    h('div', { class: 'dash-grid' }, checkpoints.el, stylize.el, generate.el));
  container.append(
    h('a', { class: 'back-link', href: '#/' }, icon('back', 16), 'All runs'),
    h('div', { class: 'page-head run-head-row' },
      h('div', { class: 'run-title-block' }, texThumb,
        h('div', {}, h('div', { class: 'title-line' }, titleEl, badgeSlot), subline)),
      actions),
    failure, alerts, body);

  // -- rendering ---------------------------------------------------------------------------
  const state = () => run?.state ?? null;

  async function stop() {
    const queued = run?.state === STATE.queued;
    const ok = await confirmDialog(queued
      ? { title: 'Cancel this run?', body: 'It has not started yet. It is removed from the queue and ends as stopped.', confirm: 'Cancel run', cancel: 'Keep it', danger: true }
      : { title: 'Stop training?', body: 'The trainer finishes its current iteration, saves a checkpoint and the model, and the run ends as stopped. (You can continue it later from any checkpoint.)', confirm: 'Stop training', cancel: 'Keep training', danger: true });
    if (!ok || destroyed) return;
    try {
      const res = await api.stopRun(id);
      if (res.run) store.upsertRun(res.run);
      actionError = null;
    } catch (err) {
      actionError = `Could not stop the run: ${err.message}`;
    }
    renderAll();
  }

  async function deleteRun() {
    if (activeContinuation(run, store.allRuns())) return void renderAll(); // the button says why
    const name = run ? runName(run) : id;
    const ok = await confirmDialog({
      title: 'Delete this run?',
      body: 'Its checkpoints, previews and model are removed from disk. Download what you want to keep first. This cannot be undone.',
      confirm: 'Delete run', cancel: 'Keep it', danger: true,
    });
    if (!ok || destroyed) return;
    try {
      await api.deleteRun(id);
      flashOnRuns(`Deleted the run “${name}” (${id}) and its files.`);
      navigate('/');
      store.removeRun(id); // the run_deleted message says so too, unless the live connection is down
    } catch (err) {
      actionError = `Could not delete the run: ${err.message}`;
      renderAll();
    }
  }

  async function rename() {
    const next = await promptDialog({
      title: 'Name this run', label: 'Name', value: run?.name || '', placeholder: run ? title(textureName(run)) : '',
      body: 'Shown on the runs list, here and in comparisons. Leave it empty to go back to the texture’s name.', confirm: 'Save name',
    });
    if (next === null || destroyed) return;
    try {
      store.upsertRun(await renameRun(id, next));
      actionError = null;
    } catch (err) {
      actionError = `Could not rename the run: ${err.message}`;
    }
    renderAll();
  }

  async function continueTraining() {
    const next = await continueDialog(run);
    if (!next || destroyed) return;
    store.upsertRun(next);
    navigate(`/runs/${encodeURIComponent(next.id)}`);
  }

  function renderHead() {
    const s = state();
    const tex = run ? textureName(run) : null;
    titleEl.textContent = run ? runName(run) : `Run ${id}`;
    if (tex && texThumb.getAttribute('src') !== textureSrc(run)) {
      texThumb.src = textureSrc(run);
      texThumb.alt = `Texture: ${title(tex)}`;
    }
    texThumb.hidden = !tex;
    document.title = `${run ? runName(run) : `Run ${id}`}${s ? ` · ${s}` : ''} · TN Studio`;
    renderIf(badgeSlot, s, () => replace(badgeSlot, s ? badge(s) : null));
    const from = run?.resumed_from;
    const mode = knownMode();
    renderIf(subline, [run?.created, run?.device, run?.config?.data_dir, from, run?.sweep?.id, mode, run?.name], () => {
      const parts = [h('code', { class: 'run-id' }, id)];
      if (run?.name) parts.push(' · ', h('span', { class: 'run-texture-name' }, `texture ${title(tex)}`));
      if (mode === 'synthesis') parts.push(' · ', h('span', { class: 'mode-tag', id: 'run-mode' }, MODE_LABELS.synthesis));
      if (run?.created) parts.push(` · created ${when(run.created)}`);
      if (originNote(run)) parts.push(' · ', h('span', { id: 'run-origin' }, originNote(run)));
      if (from) {
        parts.push(' · continued from ', h('a', { href: `#/runs/${encodeURIComponent(from.run)}`, id: 'resumed-from' },
          `iteration ${int(from.iteration)} of ${from.run}`));
      }
      if (run?.sweep) {
        parts.push(' · one of the sweep ', h('a', { href: `#/sweeps/${encodeURIComponent(run.sweep.id)}`, id: 'sweep-link' }, run.sweep.name));
      }
      if (run?.device) parts.push(` · ${run.device}`);
      if (run?.config?.data_dir) parts.push(' · photos ', h('code', {}, run.config.data_dir));
      replace(subline, parts);
    });
    const blocker = activeContinuation(run, store.allRuns());
    renderIf(actions, [s, run?.model, run?.checkpoints?.length, blocker?.id], () => renderActions(s, blocker));
  }

  function renderActions(s, blocker) {
    const btns = [];
    if (run) btns.push(h('button', { type: 'button', class: 'btn btn-ghost', id: 'rename-run', onclick: rename, title: 'Give this run a name of your own' }, 'Rename…'));
    if (s === STATE.running || s === STATE.queued) {
      btns.push(h('button', { type: 'button', class: 'btn btn-danger-outline', id: 'stop-run', onclick: stop }, icon('stop', 16), s === STATE.queued ? 'Cancel' : 'Stop'));
    } else if (s === STATE.stopping) {
      btns.push(h('button', { type: 'button', class: 'btn btn-secondary', disabled: true }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Stopping…'));
    }
    const ended = isEnded(s);
    if (ended && run?.checkpoints?.length) {
      btns.push(h('button', { type: 'button', class: 'btn btn-secondary', id: 'continue-run', onclick: continueTraining },
        icon('play', 16), 'Continue training'));
    }
    if (ended && (run?.config?.data_dir || runMode(run) === 'synthesis')) {
      btns.push(h('button', {
        type: 'button', class: 'btn btn-secondary', id: 'run-again',
        title: runMode(run) === 'synthesis' ? 'A new texture-synthesis run with this texture and these settings, which you can change first'
          : 'A new run with these photos, texture and settings, which you can change first',
        onclick: () => { prefillWizard(run.config); navigate('/new'); },
      }, 'Run again…'));
    }
    if (ended) {
      // Refused while a run continuing from this one is active: said here, before anyone asks.
      btns.push(h('button', {
        type: 'button', class: 'btn btn-danger-outline', id: 'delete-run', onclick: deleteRun, disabled: Boolean(blocker),
        title: blocker ? `Run ${blocker.id} continues from this run’s checkpoint: delete this one after it has ended` : undefined,
        'aria-describedby': blocker ? 'delete-blocked' : undefined,
      }, 'Delete'));
    }
    if (run?.model || run?.checkpoints?.length) {
      btns.push(h('a', {
        class: 'btn btn-secondary', id: 'live-run', href: `#/runs/${encodeURIComponent(id)}/live`,
        title: 'Run the network in this page, on your webcam, a photo or a video (a synthesis run: flowing noise)',
      }, icon('play', 16), 'Live'));
    }
    if (run?.model && ended) {
      btns.push(h('a', { class: 'btn btn-primary btn-lg', id: 'download-model', href: runFile(id, run.model), download: `${id}-model.pth` }, icon('download'), 'Download model'));
    }
    replace(actions, btns);
  }

  function renderFailure() {
    const message = run?.error || 'The trainer stopped without saying why.';
    renderIf(failure, [state(), message, run?.exit_code, run?.stderr_tail], () => renderFailureNow(message));
  }

  function renderFailureNow(message) {
    if (state() !== STATE.failed) return void failure.replaceChildren();
    const details = [];
    if (run?.exit_code !== null && run?.exit_code !== undefined) details.push(h('p', { class: 'small' }, `Exit code ${run.exit_code}.`));
    const weights = weightsFailure(message, run?.config?.vgg_weights);
    replace(failure, h('section', { class: 'card failure-card', role: 'alert', id: 'failure', 'aria-labelledby': 'failure-title' },
      h('div', { class: 'failure-head' }, icon('alert', 22), h('h2', { id: 'failure-title' }, 'This run failed')),
      weights ? [
        h('p', { class: 'failure-message', id: 'failure-explained', dataset: { reason: 'vgg-weights' } }, weights),
        // The trainer's own words end in command-line advice: kept, folded away.
        h('details', { class: 'stderr' }, h('summary', {}, 'The trainer’s message'),
          h('pre', { class: 'failure-message', id: 'failure-message', tabindex: '0' }, message)),
      ] : h('p', { class: 'failure-message', id: 'failure-message' }, message),
      details,
      run?.stderr_tail ? h('details', { class: 'stderr', open: !weights },
        h('summary', {}, 'Last lines of the trainer’s output'),
        h('pre', { id: 'stderr-tail', tabindex: '0' }, run.stderr_tail)) : null));
  }

  function renderAlerts() {
    const s = state();
    const download = ev.download && !run?.started && s === STATE.running ? [ev.download.done, ev.download.total] : null;
    const blocker = isEnded(s) ? activeContinuation(run, store.allRuns()) : null;
    renderIf(alerts, [s, run?.queue_position, [...ev.warnings], actionError, download, blocker?.id, blocker?.state], () => renderAlertsNow(s, download, blocker));
  }

  function renderAlertsNow(s, download, blocker) {
    const items = [];
    if (blocker) {
      items.push(h('div', { class: 'callout', id: 'delete-blocked', role: 'status' }, icon('alert'),
        h('span', {}, 'This run cannot be deleted while ',
          h('a', { href: `#/runs/${encodeURIComponent(blocker.id)}` }, runName(blocker), ` (${blocker.id})`),
          `, which continues from its checkpoint, is ${blocker.state}. Delete it after that run has ended.`)));
    }
    if (download) {
      const [done, total] = download;
      items.push(h('div', { class: 'callout', id: 'download-note', role: 'status' }, icon('download'),
        h('span', {}, `${ev.download.what}: downloading, ${bytes(done)} of ${bytes(total)} (${Math.floor((100 * done) / total)}%). `
          + 'Training starts when it is in.')));
    }
    if (actionError) items.push(h('div', { class: 'callout callout-error', role: 'alert' }, icon('alert'), h('span', {}, actionError)));
    if (s === STATE.queued) {
      items.push(h('div', { class: 'callout', id: 'queued-note' }, icon('chip'),
        h('span', {}, `Queued${run?.queue_position ? ` (#${run.queue_position} in line)` : ''}: it starts when the device is free.`)));
    }
    for (const w of ev.warnings) items.push(h('div', { class: 'callout callout-warn' }, icon('alert'), h('span', {}, w)));
    replace(alerts, items);
  }

  function renderProgress() {
    const s = state();
    const total = run?.iterations || 0;
    const it = ev.lastIteration?.iteration || 0; // the events alone: the RunInfo's count lags them
    const frac = progressFraction(run, it);
    bar.style.width = `${(frac * 100).toFixed(2)}%`;
    barWrap.setAttribute('aria-valuenow', String(Math.round(frac * 100)));
    barWrap.dataset.state = s || '';
    const now = Date.now() / 1000;
    const elapsed = run?.started ? (run.finished ?? (isActive(s) ? now : run.started)) - run.started : null;
    // A continued run's record starts with its source's iterations: their rate and ETA were the
    // source's, so only its own events (and, before them, nothing) say how fast it goes.
    const borrowed = Boolean(run?.resumed_from) && !ev.ownFirst;
    const info = borrowed ? null : ev.lastIteration;
    // An ended run: its average over its own training (not the last instant's rate).
    const average = isEnded(s) ? averageSpeed() : null;
    const speed = average ?? itPerS({ images_per_s: info?.images_per_s, config: run?.config || {} });
    let eta = null;
    if (s === STATE.running && Number.isFinite(info?.eta_s)) eta = Math.max(0, info.eta_s - (ev.lastIteration ? now - ev.lastIteration.time : 0));

    progressText.replaceChildren(
      h('strong', {}, `Iteration ${int(it)}`), ` of ${int(total)}`, h('span', { class: 'muted' }, ` · ${Math.floor(frac * 100)}%`));
    sIt.value.textContent = speed ? `${rate(speed)} it/s` : '–';
    sIt.value.title = average ? 'On average over the run’s own iterations' : info?.images_per_s ? `${info.images_per_s} images/s` : '';
    sIt.el.querySelector('dt').textContent = average ? 'Average speed' : 'Speed';
    previews.setEmptyText(firstPreviewText(s, it, isActive(s) ? itPerS({ images_per_s: info?.images_per_s, config: run?.config || {} }) : null));
    sElapsed.value.textContent = elapsed !== null ? duration(elapsed) : '–';
    const etaText = { done: 'finished', stopped: STATE.stopped /* says so */, stopping: 'stopping…', queued: 'waiting' };
    sEta.value.textContent = s === STATE.running ? (eta !== null ? duration(eta) : 'estimating…') : etaText[s] || '–';
    const losses = ev.lastIteration;
    sLoss.value.textContent = losses ? loss(losses.total) : '–';
  }

  // Iterations per second over the run's own training (from its own first iteration to its last).
  function averageSpeed() {
    const a = ev.ownFirst;
    const b = ev.lastIteration;
    if (!a || !b || b.iteration <= a.iteration || !(b.time > a.time)) return null;
    return (b.iteration - a.iteration) / (b.time - a.time);
  }

  // When the first preview comes: at the run's preview_every, in about (iterations left / speed).
  function firstPreviewText(s, it, speed) {
    const every = run ? Number(settingOf(run, 'preview_every')) : null;
    if (!every) return 'The first preview appears after a few iterations.';
    const at = Math.min(run.iterations || every, every);
    if (isEnded(s)) return `No previews: the run ended before iteration ${int(at)}, when the first would have been made.`;
    const left = Math.max(0, at - it);
    const when = speed && it > 0 ? `, ${left ? `in ${roughDuration(left / speed)} at ${rate(speed)} it/s` : 'any moment now'}` : '';
    return `The first preview comes at iteration ${int(at)}${when}, then every ${int(every)} iterations.`;
  }

  // The run's mode once known: its RunInfo, else its start event (which can come first).
  function knownMode() {
    return run?.mode || run?.config?.mode || ev.mode || null;
  }

  function renderMode() {
    const mode = knownMode();
    if (!mode) return;
    chart.setMode(mode);
    previews.setMode(mode);
    stylize.el.hidden = mode === 'synthesis';
    generate.el.hidden = mode !== 'synthesis';
    sLoss.el.querySelector('dt').textContent = mode === 'synthesis' ? 'Total (style + diversity)' : 'Total loss';
  }

  const renderAll = perFrame(() => {
    if (destroyed) return;
    renderMode();
    renderHead();
    renderFailure();
    renderAlerts();
    renderProgress();
    chart.setNote(balanceNote(run));
    const s = state();
    body.hidden = isEnded(s) && chart.points === 0 && !run?.checkpoints?.length && !run?.model;
    checkpoints.set(run?.checkpoints);
    if (run?.model) checkpoints.setModel(run.model, run.model_iteration ?? run.iteration);
    stylize.update();
    generate.update();
  });

  // -- events --------------------------------------------------------------------------------
  function onEvent({ event }) {
    if (!event || typeof event !== 'object') return;
    switch (event.type) {
      case 'start':
        ev.t0 ??= event.time;
        if (!event.run_dir || String(event.run_dir).replace(/\/+$/, '').split('/').pop() === id) {
          ev.ownStart = event;
          ev.ownFirst = null;
        }
        ev.mode ??= event.mode || 'stylize';
        previews.started(knownMode());
        break;
      case 'iteration':
        ev.t0 ??= event.time;
        ev.lastIteration = event;
        if (ev.ownStart && !ev.ownFirst && event.iteration >= ev.ownStart.iteration) ev.ownFirst = event;
        chart.add(event, event.time - ev.t0);
        break;
      case 'preview':
        previews.add(event.iteration, event.path, event.tiled);
        checkpoints.render();
        break;
      case 'eval':
        ev.t0 ??= event.time;
        chart.addEval(event, event.time - ev.t0);
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
    renderAll();
  }

  let notFound = false;
  function showNotFound(message) {
    if (notFound || destroyed) return;
    notFound = true;
    container.replaceChildren(
      h('a', { class: 'back-link', href: '#/' }, icon('back', 16), 'All runs'),
      h('section', { class: 'card empty' }, h('h1', {}, 'Run not found'),
        h('p', {}, message || `There is no run ${id}.`),
        h('a', { class: 'btn btn-primary', href: '#/' }, 'See all runs')));
  }

  function refreshRun() {
    if (!store.workerUp()) return; // the store refreshes every run when it is back
    api.run(id).then((res) => {
      if (!destroyed && res.run) store.upsertRun(res.run);
    }).catch((err) => {
      if (err.status === 404) showNotFound(err.message);
    });
  }

  const offRuns = store.onRuns((changed) => {
    if (changed !== null && changed !== id) {
      if (run && isEnded(run.state)) renderAll(); // a run continuing from this one may have started or ended
      return;
    }
    const next = store.getRun(id);
    if (!next) {
      if (run && changed === id && currentPath().startsWith('/runs/')) showNotFound('This run was deleted.');
      return;
    }
    run = next;
    renderAll();
  });

  const unsubscribe = socket.subscribe(id, {
    after: 0,
    onEvent,
    onAck: (ack) => {
      if (!ack.ok && /no run/i.test(ack.error || '')) showNotFound(ack.error);
    },
  });
  // The run's own refresh: the state may have moved while this page was closed.
  refreshRun();
  // Elapsed and remaining tick between events.
  const ticker = setInterval(() => {
    if (isActive(state())) renderProgress();
  }, 1000);
  renderAll();

  return () => {
    destroyed = true;
    clearInterval(ticker);
    unsubscribe();
    offRuns();
    chart.destroy();
    stylize.destroy();
    generate.destroy();
  };
}
