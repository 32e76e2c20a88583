// The home page: every run as a card, live; a sweep's runs as one card that opens their
// comparison; runs ticked on their cards compared side by side.
import { h, icon, renderIf, replace } from './dom.js';
import { runFile } from './api.js';
import * as store from './store.js';
import { badge } from './badges.js';
import { STATE, isActive, settingsSchema } from './protocol.js';
import { int, loss, title, when } from './format.js';
import { MODE_LABELS, differingSettings, failureLine, lossParts, originNote, progressFraction, renameRun, runDuration, runMode, runName, settingsText, textureName, textureSrc } from './runinfo.js';
import { promptDialog } from './confirm.js';
import { navigate } from './router.js';

const TICK_MS = 1000;

// What the list says when it is next shown (a run deleted on its dashboard): one message, once.
let flash = null;
export function flashOnRuns(message) {
  flash = message;
}

// The settings a card shows: those that differ between the listed runs (not the texture, its
// title and thumbnail say it, nor the iterations, its counter does), else the size and balance.
function cardSettings(runs) {
  const keys = differingSettings(runs, { skip: ['mode', 'texture', 'iterations'] });
  return keys.length ? keys : ['image_size', 'balance'];
}

// A picture set only when it changes (a new src reloads it), hidden while there is none.
function setSrc(img, src) {
  if (!src) img.removeAttribute('src');
  else if (img.getAttribute('src') !== src) img.src = src;
  img.hidden = !src;
}

function card(run, selected, onSelect, onRename) {
  const el = {
    root: h('li', { class: 'run-card' }),
    media: h('div', { class: 'run-media' }),
    preview: h('img', { class: 'run-preview', alt: '', loading: 'lazy', decoding: 'async' }),
    texture: h('img', { class: 'run-texture', alt: '', loading: 'lazy', decoding: 'async', width: 44, height: 44 }),
    name: h('h2', { class: 'run-title' }),
    badgeSlot: h('span', { class: 'run-badge' }),
    mode: h('span', { class: 'mode-tag run-mode', hidden: true }, MODE_LABELS.synthesis),
    sub: h('p', { class: 'run-sub' }),
    settings: h('p', { class: 'run-settings small' }),
    reason: h('p', { class: 'run-reason small', hidden: true }),
    bar: h('div', { class: 'bar-fill' }),
    barWrap: null,
    iters: h('dd', { class: 'run-iters' }),
    losses: h('dd', { class: 'num' }),
    parts: h('p', { class: 'run-parts muted num' }),
    time: h('dd', {}),
  };
  el.barWrap = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 }, el.bar);
  el.link = h('a', { class: 'run-link', href: `#/runs/${encodeURIComponent(run.id)}` },
    el.media,
    h('div', { class: 'run-body' },
      h('div', { class: 'run-head' }, el.name, el.badgeSlot),
      el.sub,
      el.settings,
      el.reason,
      el.mode,
      el.barWrap,
      h('dl', { class: 'run-stats' },
        h('div', {}, h('dt', {}, 'Iterations'), el.iters),
        h('div', {}, h('dt', {}, 'Total loss'), el.losses),
        h('div', {}, h('dt', {}, 'Duration'), el.time)),
      el.parts));
  el.media.append(el.preview, el.texture);
  el.pick = h('input', { type: 'checkbox', class: 'pick-input', checked: selected.has(run.id), 'aria-label': `Compare run ${run.id}` });
  el.pick.addEventListener('change', () => onSelect(run.id, el.pick.checked));
  el.rename = h('button', { type: 'button', class: 'btn btn-ghost btn-sm run-rename', onclick: () => onRename(el.run) }, 'Rename');
  el.root.append(el.link, h('div', { class: 'run-foot' },
    h('label', { class: 'pick' }, el.pick, h('span', { class: 'small' }, 'Compare')), el.rename));
  return el;
}

// A sweep: one card for its runs, opening their comparison; each run keeps its dashboard link.
function sweepCard(sweep) {
  const el = { root: h('li', { class: 'run-card sweep-card', dataset: { sweep: sweep.id } }), key: null };
  el.update = (runs) => {
    const key = JSON.stringify(runs.map((r) => [r.id, r.state, r.latest_preview, r.iteration]));
    if (key === el.key) return;
    el.key = key;
    const setting = settingsSchema()[sweep.setting]?.label || sweep.setting;
    const active = runs.filter((r) => isActive(r.state)).length;
    const done = runs.filter((r) => r.state === STATE.done).length;
    replace(el.root,
      h('a', { class: 'run-link', href: `#/sweeps/${encodeURIComponent(sweep.id)}`, 'aria-label': `Sweep ${sweep.name}: compare its ${runs.length} runs` },
        h('div', { class: 'sweep-media' }, runs.map((r) => h('img', {
          alt: '', loading: 'lazy', src: r.latest_preview ? runFile(r.id, r.latest_preview) : textureSrc(r),
          class: r.latest_preview ? '' : 'faded',
        }))),
        h('div', { class: 'run-body' },
          h('div', { class: 'run-head' }, h('h2', { class: 'run-title' }, sweep.name), h('span', { class: 'badge badge-sweep' }, 'Sweep')),
          h('p', { class: 'run-sub' }, `${setting}: ${sweep.values.join(', ')} · ${title(textureName(runs[0]))} · ${when(runs[0].created)}`),
          h('p', { class: 'muted small' }, `${runs.length} runs${active ? `, ${active} active` : ''}${done ? `, ${done} done` : ''}. Open to compare them side by side.`))),
      h('ul', { class: 'sweep-runs' }, runs.map((r) => h('li', {},
        h('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, `${setting} ${r.sweep.value}`), ' ', badge(r.state)))));
  };
  return el;
}

// The list's items, newest first: a run on its own, or a sweep (placed by its newest run).
function items(runs) {
  const out = [];
  const sweeps = new Map();
  for (const run of runs) {
    if (!run.sweep) {
      out.push({ key: run.id, run });
    } else if (!sweeps.has(run.sweep.id)) {
      const item = { key: `sweep:${run.sweep.id}`, sweep: run.sweep, runs: [] };
      sweeps.set(run.sweep.id, item);
      out.push(item);
    }
    if (run.sweep) sweeps.get(run.sweep.id).runs.push(run);
  }
  for (const s of sweeps.values()) s.runs.sort((a, b) => a.sweep.index - b.sweep.index);
  return out;
}

function update(el, run, keys) {
  const tex = textureName(run);
  el.run = run;
  el.root.dataset.state = run.state;
  el.root.dataset.run = run.id;
  el.root.dataset.mode = runMode(run);
  el.mode.hidden = runMode(run) !== 'synthesis'; // the default mode goes without saying
  el.name.textContent = runName(run);
  el.rename.setAttribute('aria-label', `Rename run ${run.id}`);
  el.link.setAttribute('aria-label', `${runName(run)} ${runMode(run) === 'synthesis' ? 'texture-synthesis ' : ''}run ${run.id}, ${run.state}`);
  renderIf(el.badgeSlot, run.state, () => replace(el.badgeSlot, badge(run.state)));
  const queued = run.state === STATE.queued && run.queue_position ? ` · #${run.queue_position} in the queue` : '';
  const from = run.resumed_from ? ` · continued from iteration ${int(run.resumed_from.iteration)}` : '';
  const origin = originNote(run) ? ` · ${originNote(run)}` : '';
  el.sub.textContent = `${run.name ? `${title(tex)} · ` : ''}${when(run.created)}${origin}${from}${queued}`;
  el.settings.textContent = settingsText(run, keys);
  el.reason.textContent = failureLine(run);
  el.reason.hidden = !el.reason.textContent;
  el.sub.title = run.id;

  setSrc(el.texture, textureSrc(run));
  el.texture.alt = `Texture: ${title(tex)}`;
  if (run.latest_preview) {
    setSrc(el.preview, runFile(run.id, run.latest_preview));
    el.preview.alt = `Latest preview of run ${run.id}`;
    el.media.classList.remove('no-preview');
  } else {
    setSrc(el.preview, textureSrc(run));
    el.preview.alt = '';
    el.media.classList.add('no-preview');
  }

  const frac = progressFraction(run);
  el.bar.style.width = `${(frac * 100).toFixed(1)}%`;
  el.barWrap.setAttribute('aria-valuenow', Math.round(frac * 100));
  el.barWrap.setAttribute('aria-label', `Progress of run ${run.id}`);
  el.barWrap.dataset.state = run.state;
  el.iters.textContent = `${int(run.iteration || 0)} / ${int(run.iterations || run.config?.iterations)}`;
  el.losses.textContent = run.losses ? loss(run.losses.total) : '–';
  el.parts.textContent = lossParts(run, loss);
  el.parts.hidden = !run.losses;
  const d = runDuration(run);
  el.time.textContent = d.approx ? `≈ ${d.text}` : d.text;
}

function emptyState() {
  return h('section', { class: 'empty card' },
    h('div', { class: 'empty-art', 'aria-hidden': 'true' },
      h('span', { class: 'tile t1' }), h('span', { class: 'tile t2' }), h('span', { class: 'tile t3' })),
    h('h2', {}, 'No runs yet'),
    h('p', {}, 'A run trains a small network that paints any photo in the style of one texture, in a single pass, ',
      'or one that makes new, seamless samples of the texture itself, of any size. ',
      'Pick a folder of photos (or the built-in samples, or none for synthesis), a texture, and go. A quick CPU try takes a few minutes.'),
    h('a', { class: 'btn btn-primary btn-lg', href: '#/new' }, icon('plus'), 'Start your first run'));
}

export function runsView(container) {
  document.title = 'Runs · TN Studio';
  const grid = h('ul', { class: 'run-grid', 'aria-label': 'Runs' });
  const body = h('div', { class: 'runs-body', 'aria-live': 'polite', 'aria-busy': 'true' });
  const count = h('p', { class: 'page-sub' }, 'Texture networks you have trained or are training.');
  const notice = h('div', { class: 'runs-notice', id: 'runs-notice', role: 'status' });
  const say = (message, error = false) => replace(notice, message ? h('div', { class: `callout${error ? ' callout-error' : ' callout-ok'}` },
    icon(error ? 'alert' : 'check'), h('span', {}, message),
    h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': 'Dismiss', onclick: () => say(null) }, '×')) : null);
  if (flash) say(flash);
  flash = null;
  const onRename = async (run) => {
    const name = await promptDialog({
      title: 'Name this run', label: 'Name', value: run.name || '', placeholder: title(textureName(run)),
      body: 'Shown on the runs list, its dashboard and in comparisons. Leave it empty to go back to the texture’s name.', confirm: 'Save name',
    });
    if (name === null) return;
    try {
      store.upsertRun(await renameRun(run.id, name));
    } catch (err) {
      say(`Could not rename the run: ${err.message}`, true);
    }
  };
  const selected = new Set();
  const compareBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-lg', id: 'compare-selected', hidden: true },
    'Compare selected');
  compareBtn.addEventListener('click', () => navigate(`/compare/${[...selected].map(encodeURIComponent).join(',')}`));
  const onSelect = (id, on) => {
    if (on) selected.add(id);
    else selected.delete(id);
    compareBtn.hidden = selected.size === 0;
    compareBtn.disabled = selected.size < 2;
    compareBtn.textContent = selected.size < 2 ? 'Tick 2 or more runs to compare' : `Compare ${selected.size} runs`;
  };
  container.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Runs'), count),
      h('div', { class: 'head-actions' }, compareBtn,
        h('a', { class: 'btn btn-primary btn-lg', href: '#/new', id: 'new-run' }, icon('plus'), 'New run'))),
    notice, body);

  const cards = new Map(); // item key -> card
  function render() {
    const { loaded, error } = store.runsLoaded();
    const runs = store.allRuns();
    body.setAttribute('aria-busy', String(!loaded && !error));
    if (!loaded) {
      const waiting = !store.workerUp();
      replace(body, error && !waiting
        ? h('div', { class: 'callout callout-error', role: 'alert' }, icon('alert'), h('span', {}, `Cannot list the runs: ${error}`))
        : h('div', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), waiting ? 'Waiting for the training worker…' : 'Loading runs…'));
      return;
    }
    if (!runs.length) {
      if (!body.querySelector('.empty')) replace(body, emptyState());
      count.textContent = 'Texture networks you have trained or are training.';
      return;
    }
    const active = runs.filter((r) => isActive(r.state)).length;
    count.textContent = `${runs.length} ${runs.length === 1 ? 'run' : 'runs'}${active ? `, ${active} active` : ''}.`;
    if (grid.parentNode !== body) replace(body, grid);
    const list = items(runs);
    const shown = cardSettings(list.filter((item) => item.run).map((item) => item.run));
    const keys = new Set(list.map((item) => item.key));
    for (const [key, el] of cards) {
      if (!keys.has(key)) {
        el.root.remove();
        cards.delete(key);
      }
    }
    list.forEach((item, i) => {
      let el = cards.get(item.key);
      if (!el) {
        el = item.sweep ? sweepCard(item.sweep) : card(item.run, selected, onSelect, onRename);
        cards.set(item.key, el);
      }
      if (item.sweep) el.update(item.runs);
      else update(el, item.run, shown);
      if (grid.children[i] !== el.root) grid.insertBefore(el.root, grid.children[i] || null);
    });
  }

  const off = store.onRuns(render);
  render();
  if (store.runsLoaded().loaded) store.refreshRuns(); // else the first load is on its way
  // Progress comes as run_state messages (a running run's, about once a second); only the
  // durations of active runs tick here.
  const timer = setInterval(() => {
    if (store.allRuns().some((r) => isActive(r.state)) && !document.hidden) render();
  }, TICK_MS);
  return () => {
    off();
    clearInterval(timer);
  };
}
