// The home page: every run as a card, live.
import { h, icon, renderIf, replace } from './dom.js';
import { runFile, textureImage } from './api.js';
import * as store from './store.js';
import { badge, isActive } from './badges.js';
import { int, loss, title, when } from './format.js';
import { progressFraction, runDuration, textureName } from './runinfo.js';

const POLL_MS = 3000;

function setSrc(img, src) {
  if (img.getAttribute('src') !== src) img.src = src;
}

function card(run) {
  const el = {
    root: h('li', { class: 'run-card' }),
    media: h('div', { class: 'run-media' }),
    preview: h('img', { class: 'run-preview', alt: '', loading: 'lazy', decoding: 'async' }),
    texture: h('img', { class: 'run-texture', alt: '', loading: 'lazy', decoding: 'async', width: 44, height: 44 }),
    name: h('h2', { class: 'run-title' }),
    badgeSlot: h('span', { class: 'run-badge' }),
    sub: h('p', { class: 'run-sub' }),
    bar: h('div', { class: 'bar-fill' }),
    barWrap: null,
    iters: h('dd', {}),
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
      el.barWrap,
      h('dl', { class: 'run-stats' },
        h('div', {}, h('dt', {}, 'Iterations'), el.iters),
        h('div', {}, h('dt', {}, 'Total loss'), el.losses),
        h('div', {}, h('dt', {}, 'Duration'), el.time)),
      el.parts));
  el.media.append(el.preview, el.texture);
  el.root.append(el.link);
  return el;
}

function update(el, run) {
  const tex = textureName(run);
  el.root.dataset.state = run.state;
  el.root.dataset.run = run.id;
  el.name.textContent = title(tex);
  el.link.setAttribute('aria-label', `${title(tex)} run ${run.id}, ${run.state}`);
  renderIf(el.badgeSlot, run.state, () => replace(el.badgeSlot, badge(run.state)));
  const queued = run.state === 'queued' && run.queue_position ? ` · #${run.queue_position} in the queue` : '';
  const from = run.resumed_from ? ` · continued from iteration ${int(run.resumed_from.iteration)}` : '';
  el.sub.textContent = `${when(run.created)}${from}${queued}`;
  el.sub.title = run.id;

  setSrc(el.texture, textureImage(tex));
  el.texture.alt = `Texture: ${title(tex)}`;
  if (run.latest_preview) {
    setSrc(el.preview, runFile(run.id, run.latest_preview));
    el.preview.alt = `Latest preview of run ${run.id}`;
    el.media.classList.remove('no-preview');
  } else {
    setSrc(el.preview, textureImage(tex));
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
  el.parts.textContent = run.losses ? `style ${loss(run.losses.style)} · content ${loss(run.losses.content)}` : '';
  el.parts.hidden = !run.losses;
  const d = runDuration(run);
  el.time.textContent = d.approx ? `≈ ${d.text}` : d.text;
}

function emptyState() {
  return h('section', { class: 'empty card' },
    h('div', { class: 'empty-art', 'aria-hidden': 'true' },
      h('span', { class: 'tile t1' }), h('span', { class: 'tile t2' }), h('span', { class: 'tile t3' })),
    h('h2', {}, 'No runs yet'),
    h('p', {}, 'A run trains a small network that paints any photo in the style of one texture, in a single pass. ',
      'Pick a folder of photos (or the built-in samples), a texture, and go. A quick CPU try takes a few minutes.'),
    h('a', { class: 'btn btn-primary btn-lg', href: '#/new' }, icon('plus'), 'Start your first run'));
}

export function runsView(container) {
  document.title = 'Runs · TN Studio';
  const grid = h('ul', { class: 'run-grid', 'aria-label': 'Runs' });
  const body = h('div', { class: 'runs-body', 'aria-live': 'polite', 'aria-busy': 'true' });
  const count = h('p', { class: 'page-sub' }, 'Texture networks you have trained or are training.');
  container.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Runs'), count),
      h('a', { class: 'btn btn-primary btn-lg', href: '#/new', id: 'new-run' }, icon('plus'), 'New run')),
    body);

  const cards = new Map();
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
    const ids = new Set(runs.map((r) => r.id));
    for (const [id, el] of cards) {
      if (!ids.has(id)) {
        el.root.remove();
        cards.delete(id);
      }
    }
    runs.forEach((run, i) => {
      let el = cards.get(run.id);
      if (!el) {
        el = card(run);
        cards.set(run.id, el);
      }
      update(el, run);
      if (grid.children[i] !== el.root) grid.insertBefore(el.root, grid.children[i] || null);
    });
  }

  const off = store.onRuns(render);
  render();
  if (store.runsLoaded().loaded) store.refreshRuns(); // else the first load is on its way
  // run_state says when a run changes state; its iteration count moves between those, so the
  // list is refreshed while anything is active (and durations tick).
  const timer = setInterval(() => {
    if (store.allRuns().some((r) => isActive(r.state)) && !document.hidden) store.refreshRuns();
  }, POLL_MS);
  return () => {
    off();
    clearInterval(timer);
  };
}
