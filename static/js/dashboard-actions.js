// A run dashboard's buttons: rename; stop (cancel, for a queued run); continue, run again and delete
// an ended run; Live; the model's download. Each shows only when the run's state allows it, so a
// click is never refused for a reason the page already knew.
import { h, icon, renderIf, replace } from './dom.js';
import { api, runFile } from './api.js';
import * as store from './store.js';
import { STATE, isEnded } from './protocol.js';
import { title } from './format.js';
import { activeContinuation, renameRun, runMode, runName, textureName } from './runinfo.js';
import { confirmDialog, promptDialog } from './confirm.js';
import { flashOnRuns } from './runs.js';
import { continueDialog } from './continue.js';
import { prefillWizard } from './wizard.js';
import { navigate } from './router.js';

const button = (attrs, ...children) => h('button', { type: 'button', ...attrs }, ...children);

export class RunActions {
  // onError(text): an action failed (null: the last one went through), for the dashboard's notices;
  // onChange(): the page should render again.
  constructor(id, { onError, onChange }) {
    this.id = id;
    this.onError = onError;
    this.onChange = onChange;
    this.run = null;
    this.destroyed = false; // a dialog can outlive the page that opened it
    this.el = h('div', { class: 'head-actions' });
  }

  // `blocker`: a run continuing from this one that is still active (deleting this one is refused).
  update(run, blocker) {
    this.run = run;
    const s = run?.state ?? null;
    renderIf(this.el, [s, run?.model, run?.checkpoints?.length, blocker?.id],
      () => replace(this.el, [...this.whileActive(s), ...this.onceEnded(s, blocker), ...this.files(s)]));
  }

  destroy() {
    this.destroyed = true;
  }

  whileActive(s) {
    const btns = [];
    if (this.run) btns.push(button({ class: 'btn btn-ghost', id: 'rename-run', onclick: () => this.rename(), title: 'Give this run a name of your own' }, 'Rename…'));
    if (s === STATE.running || s === STATE.queued) {
      btns.push(button({ class: 'btn btn-danger-outline', id: 'stop-run', onclick: () => this.stop() }, icon('stop', 16), s === STATE.queued ? 'Cancel' : 'Stop'));
    } else if (s === STATE.stopping) {
      btns.push(button({ class: 'btn btn-secondary', disabled: true }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Stopping…'));
    }
    return btns;
  }

  onceEnded(s, blocker) {
    if (!isEnded(s)) return [];
    const run = this.run;
    const btns = [];
    if (run?.checkpoints?.length) {
      btns.push(button({ class: 'btn btn-secondary', id: 'continue-run', onclick: () => this.continueTraining() }, icon('play', 16), 'Continue training'));
    }
    if (run?.config?.data_dir || runMode(run) === 'synthesis') {
      btns.push(button({
        class: 'btn btn-secondary', id: 'run-again',
        title: runMode(run) === 'synthesis' ? 'A new texture-synthesis run with this texture and these settings, which you can change first'
          : 'A new run with these photos, texture and settings, which you can change first',
        onclick: () => { prefillWizard(run.config); navigate('/new'); },
      }, 'Run again…'));
    }
    // Refused while a run continuing from this one is active: said here, before anyone asks.
    btns.push(button({
      class: 'btn btn-danger-outline', id: 'delete-run', onclick: () => this.deleteRun(), disabled: Boolean(blocker),
      title: blocker ? `Run ${blocker.id} continues from this run’s checkpoint: delete this one after it has ended` : undefined,
      'aria-describedby': blocker ? 'delete-blocked' : undefined,
    }, 'Delete'));
    return btns;
  }

  files(s) {
    const run = this.run;
    const links = [];
    if (run?.model || run?.checkpoints?.length) {
      links.push(h('a', {
        class: 'btn btn-secondary', id: 'live-run', href: `#/runs/${encodeURIComponent(this.id)}/live`,
        title: 'Run the network in this page, on your webcam, a photo or a video (a synthesis run: flowing noise)',
      }, icon('play', 16), 'Live'));
    }
    if (run?.model && isEnded(s)) {
      links.push(h('a', { class: 'btn btn-primary btn-lg', id: 'download-model', href: runFile(this.id, run.model), download: `${this.id}-model.pth` }, icon('download'), 'Download model'));
    }
    return links;
  }

  async stop() {
    const queued = this.run?.state === STATE.queued;
    const ok = await confirmDialog(queued
      ? { title: 'Cancel this run?', body: 'It has not started yet. It is removed from the queue and ends as stopped.', confirm: 'Cancel run', cancel: 'Keep it', danger: true }
      : { title: 'Stop training?', body: 'The trainer finishes its current iteration, saves a checkpoint and the model, and the run ends as stopped. (You can continue it later from any checkpoint.)', confirm: 'Stop training', cancel: 'Keep training', danger: true });
    if (!ok || this.destroyed) return;
    try {
      const res = await api.stopRun(this.id);
      if (res.run) store.upsertRun(res.run);
      this.onError(null);
    } catch (err) {
      this.onError(`Could not stop the run: ${err.message}`);
    }
  }

  async deleteRun() {
    if (activeContinuation(this.run, store.allRuns())) return void this.onChange(); // the button says why
    const name = this.run ? runName(this.run) : this.id;
    const ok = await confirmDialog({
      title: 'Delete this run?',
      body: 'Its checkpoints, previews and model are removed from disk. Download what you want to keep first. This cannot be undone.',
      confirm: 'Delete run', cancel: 'Keep it', danger: true,
    });
    if (!ok || this.destroyed) return;
    try {
      await api.deleteRun(this.id);
      flashOnRuns(`Deleted the run “${name}” (${this.id}) and its files.`);
      navigate('/');
      store.removeRun(this.id); // the run_deleted message says so too, unless the live connection is down
    } catch (err) {
      this.onError(`Could not delete the run: ${err.message}`);
    }
  }

  async rename() {
    const run = this.run;
    const next = await promptDialog({
      title: 'Name this run', label: 'Name', value: run?.name || '', placeholder: run ? title(textureName(run)) : '',
      body: 'Shown on the runs list, here and in comparisons. Leave it empty to go back to the texture’s name.', confirm: 'Save name',
    });
    if (next === null || this.destroyed) return;
    try {
      store.upsertRun(await renameRun(this.id, next));
      this.onError(null);
    } catch (err) {
      this.onError(`Could not rename the run: ${err.message}`);
    }
  }

  async continueTraining() {
    const next = await continueDialog(this.run);
    if (!next || this.destroyed) return;
    store.upsertRun(next);
    navigate(`/runs/${encodeURIComponent(next.id)}`);
  }
}
