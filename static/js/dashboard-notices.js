// What a run dashboard tells above the run's figures: why a failed run failed (FailureCard), and
// the notes of the moment (RunAlerts): a delete refused, weights downloading, an action that
// failed, the queue, the trainer's warnings.
import { h, icon, renderIf, replace } from './dom.js';
import { STATE, isEnded } from './protocol.js';
import { bytes } from './format.js';
import { runName } from './runinfo.js';

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

export class FailureCard {
  constructor() {
    this.el = h('div', { class: 'failure-slot' });
  }

  update(run) {
    const message = run?.error || 'The trainer stopped without saying why.';
    renderIf(this.el, [run?.state ?? null, message, run?.exit_code, run?.stderr_tail], () => {
      if (run?.state !== STATE.failed) this.el.replaceChildren();
      else replace(this.el, this.card(run, message));
    });
  }

  card(run, message) {
    const weights = weightsFailure(message, run.config?.vgg_weights);
    return h('section', { class: 'card failure-card', role: 'alert', id: 'failure', 'aria-labelledby': 'failure-title' },
      h('div', { class: 'failure-head' }, icon('alert', 22), h('h2', { id: 'failure-title' }, 'This run failed')),
      weights ? [
        h('p', { class: 'failure-message', id: 'failure-explained', dataset: { reason: 'vgg-weights' } }, weights),
        // The trainer's own words end in command-line advice: kept, folded away.
        h('details', { class: 'stderr' }, h('summary', {}, 'The trainer’s message'),
          h('pre', { class: 'failure-message', id: 'failure-message', tabindex: '0' }, message)),
      ] : h('p', { class: 'failure-message', id: 'failure-message' }, message),
      run.exit_code !== null && run.exit_code !== undefined ? h('p', { class: 'small' }, `Exit code ${run.exit_code}.`) : null,
      run.stderr_tail ? h('details', { class: 'stderr', open: !weights },
        h('summary', {}, 'Last lines of the trainer’s output'),
        h('pre', { id: 'stderr-tail', tabindex: '0' }, run.stderr_tail)) : null);
  }
}

export class RunAlerts {
  constructor() {
    this.el = h('div', { class: 'alerts' });
  }

  // warnings: the trainer's warning events' messages; download: its latest download event;
  // actionError: why the last action failed; blocker: an active run continuing from this one.
  update(run, { warnings, download, actionError, blocker }) {
    const s = run?.state ?? null;
    // The weights download comes before the run's start: its note goes once training has begun.
    const fetching = download && !run?.started && s === STATE.running ? download : null;
    const refused = isEnded(s) ? blocker : null;
    renderIf(this.el, [s, run?.queue_position, [...warnings], actionError, fetching && [fetching.done, fetching.total], refused?.id, refused?.state],
      () => replace(this.el, [
        refused ? deleteBlocked(refused) : null,
        fetching ? downloading(fetching) : null,
        actionError ? h('div', { class: 'callout callout-error', role: 'alert' }, icon('alert'), h('span', {}, actionError)) : null,
        s === STATE.queued ? queued(run) : null,
        [...warnings].map((w) => h('div', { class: 'callout callout-warn' }, icon('alert'), h('span', {}, w))),
      ]));
  }
}

function deleteBlocked(blocker) {
  return h('div', { class: 'callout', id: 'delete-blocked', role: 'status' }, icon('alert'),
    h('span', {}, 'This run cannot be deleted while ',
      h('a', { href: `#/runs/${encodeURIComponent(blocker.id)}` }, runName(blocker), ` (${blocker.id})`),
      `, which continues from its checkpoint, is ${blocker.state}. Delete it after that run has ended.`));
}

function downloading({ what, done, total }) {
  return h('div', { class: 'callout', id: 'download-note', role: 'status' }, icon('download'),
    h('span', {}, `${what}: downloading, ${bytes(done)} of ${bytes(total)} (${Math.floor((100 * done) / total)}%). `
      + 'Training starts when it is in.'));
}

function queued(run) {
  return h('div', { class: 'callout', id: 'queued-note' }, icon('chip'),
    h('span', {}, `Queued${run?.queue_position ? ` (#${run.queue_position} in line)` : ''}: it starts when the device is free.`));
}
