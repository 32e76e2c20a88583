// Runs side by side: a sweep (#/sweeps/:id) or runs picked from the list (#/compare/:ids, ids
// joined by commas). Their held-out previews in a grid (a row per run, a column per preview
// photo) at one iteration chosen with a shared slider, their loss curves overlaid, and the
// settings that differ as row labels. Live while the runs train: each run's events come from its
// socket subscription, its facts from the store. A cell opens large (cell-view.js). A texture-
// synthesis run's row shows its samples, a column per preview seed (its strip cut per sample as a
// stylization run's is cut per photo); when every run is one, the columns are labelled by seed.
import { h, icon, perFrame, renderIf, replace } from './dom.js';
import { runFile } from './api.js';
import * as socket from './socket.js';
import * as store from './store.js';
import { badge } from './badges.js';
import { int } from './format.js';
import { previewPhotos, settingsSchema } from './protocol.js';
import { COLOURS, CompareChart } from './compare-chart.js';
import { openCell } from './cell-view.js';
import { stripCrop } from './previews.js';
import { differingSettings, photosSrc, runMode, settingsText } from './runinfo.js';
import { currentPath, navigate } from './router.js';

// A row's label: the run's name (when its user gave one) and the settings that differ.
function rowLabel(run, keys) {
  const settings = keys.length ? settingsText(run, keys) : '';
  if (run.name) return settings ? `${run.name} · ${settings}` : run.name;
  return settings || run.id;
}

export function sweepView(container, { id }) {
  const runs = () => store.allRuns().filter((r) => r.sweep?.id === id).sort((a, b) => a.sweep.index - b.sweep.index);
  return compare(container, runs, (list) => {
    const sw = list[0]?.sweep;
    return sw ? { title: sw.name, sub: `${settingsSchema()[sw.setting]?.label || sw.setting}: ${sw.values.join(', ')}` }
      : { title: 'Sweep', sub: `No runs of sweep ${id} (yet).` };
  });
}

export function compareView(container, { ids }) {
  const wanted = ids.split(',').filter(Boolean);
  const runs = () => wanted.map((i) => store.getRun(i)).filter(Boolean);
  return compare(container, runs, (list) => ({ title: `${list.length} runs side by side`, sub: '' }));
}

function compare(container, selectRuns, describe) {
  document.title = 'Compare · TN Studio';
  const heading = h('h1', {}, 'Compare');
  const sub = h('p', { class: 'page-sub', id: 'compare-sub' });
  const slider = h('input', { type: 'range', class: 'range', id: 'compare-slider', min: 0, max: 0, step: 1, value: 0, 'aria-label': 'Iteration' });
  const sliderLabel = h('output', { for: 'compare-slider', class: 'num', id: 'compare-iteration' }, '–');
  const grid = h('div', { class: 'cmp-grid', id: 'compare-grid', role: 'table', 'aria-label': 'Previews of each run' });
  const gridTitle = h('h2', { id: 'cmp-title' }, 'Previews on held-out photos');
  const gridHint = h('p', { class: 'muted small' }, 'Click a picture to see it large, stylize your own photo with that network, or make it the run’s model.');
  const empty = h('p', { class: 'muted', id: 'compare-empty' }, 'The previews appear as the runs train.');
  const chart = new CompareChart();
  container.append(
    h('a', { class: 'back-link', href: '#/' }, icon('back', 16), 'All runs'),
    h('div', { class: 'page-head' }, h('div', {}, heading, sub)),
    h('section', { class: 'card cmp-card', 'aria-labelledby': 'cmp-title' },
      h('div', { class: 'card-head' }, gridTitle,
        h('div', { class: 'control' }, h('label', { for: 'compare-slider', class: 'label small' }, 'Iteration'), slider, sliderLabel)),
      gridHint,
      empty, h('div', { class: 'cmp-scroll' }, grid)),
    chart.el);

  const previews = new Map(); // run id -> Map(iteration -> path)
  const subscriptions = new Map(); // run id -> unsubscribe
  const latest = new Map(); // run id -> the newest iteration its events have shown
  const counters = new Map(); // run id -> its row's "iteration / total" counter
  let runs = [];
  let photos = previewPhotos(); // until the photos strip has loaded and says how many
  let chartLabels = null; // the run names the chart's legend was drawn with
  let follow = true; // the slider follows the newest iteration until moved
  let measured = false; // how many photos (or seeds) a strip holds, read from the first preview strip

  const iterations = () => [...new Set([...previews.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const previewAt = (id, iteration) => {
    let best = null;
    for (const [it, path] of previews.get(id) || []) if (it <= iteration && (!best || it > best.iteration)) best = { iteration: it, path };
    return best;
  };

  function subscribe(run) {
    previews.set(run.id, new Map());
    subscriptions.set(run.id, socket.subscribe(run.id, {
      after: 0,
      onEvent: ({ event }) => {
        if (event?.type === 'preview') {
          previews.get(run.id).set(event.iteration, event.path);
          renderGrid();
        } else if (event) {
          chart.add(run.id, event);
          if (event.type === 'iteration') { // once each, in order: socket.js sees to it
            latest.set(run.id, event.iteration);
            updateCounter(run.id);
          }
        }
      },
      onReset: () => navigate(currentPath()), // its log was replaced: the page reads the new one
    }));
  }

  // The row's counter moves with the run's events, in place: rebuilding the row would fetch its
  // pictures again.
  const counterText = (run) => ` ${int(latest.get(run.id) || 0)} / ${int(run.iterations)}`;
  function updateCounter(id) {
    const el = counters.get(id);
    const run = runs.find((r) => r.id === id);
    if (el && run) el.textContent = counterText(run);
  }

  function measurePhotos(run, path) {
    const img = new Image();
    img.onload = () => {
      const n = Math.max(1, Math.round(img.naturalWidth / img.naturalHeight));
      if (n !== photos) {
        photos = n;
        renderGrid();
      }
    };
    img.src = runFile(run.id, path);
  }

  const renderGrid = perFrame(() => {
    const its = iterations();
    slider.max = String(Math.max(0, its.length - 1));
    slider.disabled = its.length < 2;
    if (follow) slider.value = slider.max;
    const chosen = its[Number(slider.value)] ?? null;
    sliderLabel.textContent = chosen === null ? '–' : `${int(chosen)}${follow ? ' (latest)' : ''}`;
    grid.dataset.iteration = chosen === null ? '' : String(chosen);
    empty.hidden = its.length > 0;
    const keys = differingSettings(runs);
    // The held-out photos, from the first stylization run with a preview (its photos strip exists
    // by then); with none, the columns are the synthesis runs' seeds.
    const withPreviews = runs.filter((r) => previews.get(r.id)?.size);
    const source = withPreviews.find((r) => runMode(r) !== 'synthesis') || null;
    if (withPreviews.length && !measured) {
      measured = true;
      measurePhotos(withPreviews[0], previews.get(withPreviews[0].id).values().next().value);
    }
    const shown = runs.map((run) => (chosen === null ? null : previewAt(run.id, chosen)));
    // Rebuilt only when something it shows changed: a new element would fetch its picture again.
    const key = [photos, source?.id, chosen, keys, runs.map((run, r) => [run.id, run.name, run.state, run.iteration, run.iterations, shown[r]?.path])];
    renderIf(grid, key, () => buildGrid(chosen, source, keys, shown));
  });

  function buildGrid(chosen, source, keys, shown) {
    const seedsOnly = runs.length > 0 && runs.every((r) => runMode(r) === 'synthesis');
    gridTitle.textContent = seedsOnly ? 'Samples at the preview seeds' : 'Previews on held-out photos';
    gridHint.textContent = seedsOnly ? 'Click a sample to see it large beside the exemplar, generate textures with that network, or make it the run’s model.'
      : 'Click a picture to see it large, stylize your own photo with that network, or make it the run’s model.';
    const head = h('div', { class: 'cmp-row cmp-head', role: 'row' }, h('div', { class: 'cmp-label', role: 'columnheader' }, seedsOnly ? 'Seeds' : 'Photos'),
      Array.from({ length: photos }, (_, i) => h('div', { class: 'cmp-cell', role: 'columnheader' },
        seedsOnly ? h('span', { class: 'cmp-seed' }, `seed ${i}`)
          : source ? stripCrop(photosSrc(source.id), i, photos, `Held-out photo ${i + 1}`) : null)));
    counters.clear();
    const counter = (run) => {
      const el = h('span', { class: 'muted small cmp-count', dataset: { run: run.id } }, counterText(run));
      counters.set(run.id, el);
      return el;
    };
    const rows = runs.map((run, r) => {
      const at = shown[r];
      const what = (i) => (runMode(run) === 'synthesis' ? `seed ${i}` : `photo ${i + 1}`);
      const cells = Array.from({ length: photos }, (_, i) => h('div', { class: 'cmp-cell', role: 'cell' },
        at ? h('button', {
          type: 'button', class: 'cmp-open', dataset: { run: run.id, photo: String(i), iteration: String(at.iteration) },
          'aria-label': `${rowLabel(run, keys)}, ${what(i)}, iteration ${at.iteration}: open large`,
          onclick: () => openCell({ run: store.getRun(run.id) || run, iteration: at.iteration, path: at.path, photo: i, photos, label: rowLabel(run, keys) }),
        }, stripCrop(runFile(run.id, at.path), i, photos, '')) : h('div', { class: 'cmp-none muted small' }, 'not yet')));
      return h('div', { class: 'cmp-row', role: 'row', dataset: { run: run.id, shown: at ? String(at.iteration) : '' } },
        h('div', { class: 'cmp-label', role: 'rowheader' },
          h('span', { class: 'cmp-swatch', style: { background: COLOURS[r % COLOURS.length] }, 'aria-hidden': 'true' }),
          h('div', {}, h('strong', {}, rowLabel(run, keys)),
            h('div', { class: 'cmp-meta' }, badge(run.state), counter(run),
              h('a', { href: `#/runs/${encodeURIComponent(run.id)}`, class: 'small' }, 'Dashboard')),
            at && at.iteration !== chosen ? h('span', { class: 'muted small' }, `showing iteration ${int(at.iteration)}`) : null)),
        cells);
    });
    grid.style.setProperty('--photos', String(photos));
    replace(grid, head, rows);
  }

  function sync() {
    const next = selectRuns();
    const { title: t, sub: s } = describe(next);
    heading.textContent = t;
    sub.textContent = s;
    document.title = `${t} · TN Studio`;
    const changed = next.map((r) => r.id).join() !== runs.map((r) => r.id).join();
    runs = next;
    for (const run of runs) if (!subscriptions.has(run.id)) subscribe(run);
    const labels = runs.map((r) => r.name || '').join('\n');
    if (changed || labels !== chartLabels) {
      chartLabels = labels;
      const keys = differingSettings(runs);
      chart.setRuns(runs.map((run, i) => ({ id: run.id, label: rowLabel(run, keys), colour: COLOURS[i % COLOURS.length], mode: runMode(run) })));
    }
    renderGrid();
  }

  slider.addEventListener('input', () => {
    follow = Number(slider.value) === Number(slider.max);
    renderGrid();
  });
  const offRuns = store.onRuns(sync);
  sync();
  if (!store.runsLoaded().loaded) store.refreshRuns();

  return () => {
    offRuns();
    for (const off of subscriptions.values()) off();
    chart.destroy();
  };
}
