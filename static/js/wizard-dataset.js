// Wizard step 1: the training photos. A folder path, checked live by the server
// (POST /api/datasets/scan), or the built-in sample photos (path `sample`).
import { h, icon, newId, replace, debounce } from './dom.js';
import { api } from './api.js';
import { plural } from './format.js';

const SCAN_DELAY_MS = 450;

export function datasetStep(el, { state, changed }) {
  let controller = null;
  let busy = false;
  let error = null;
  let seq = 0;

  const pathId = newId('data-path');
  const hintId = newId('data-path-hint');
  const radios = [
    { value: 'folder', title: 'A folder of photos', text: 'Any folder on the machine running TN Studio, searched recursively. MSCOCO train2014 is the classic choice.', icon: 'folder' },
    { value: 'sample', title: 'The built-in sample photos', text: '10 photos of people, animals and scenes that ship with TN Studio. Good for a first try.', icon: 'image' },
  ];
  const choice = h('fieldset', { class: 'choice-group' },
    h('legend', { class: 'sr-only' }, 'Where are the photos?'),
    h('div', { class: 'choice-row' }, radios.map((r) => {
      const input = h('input', { type: 'radio', name: 'data-mode', value: r.value, class: 'sr-only-input', checked: state.dataMode === r.value, id: `data-mode-${r.value}` });
      input.addEventListener('change', () => {
        state.dataMode = r.value;
        modeChanged();
      });
      return h('label', { class: 'choice', for: input.id }, input,
        h('span', { class: 'choice-icon' }, icon(r.icon, 22)),
        h('span', { class: 'choice-text' }, h('strong', {}, r.title), h('span', { class: 'muted small' }, r.text)));
    })));

  const input = h('input', {
    id: pathId, type: 'text', class: 'input input-mono', value: state.dataPath, autocomplete: 'off', spellcheck: false,
    placeholder: '/home/you/data/train2014', 'aria-describedby': hintId,
  });
  const folderField = h('div', { class: 'field' },
    h('label', { for: pathId, class: 'label' }, 'Folder path'),
    input,
    h('p', { id: hintId, class: 'hint' }, 'Checked as you type: how many photos are usable, and why any are skipped.'));
  const result = h('div', { class: 'scan-result', 'aria-live': 'polite', id: 'scan-result' });
  el.append(choice, folderField, result);

  const currentPath = () => (state.dataMode === 'sample' ? 'sample' : input.value.trim());

  function renderResult() {
    const path = currentPath();
    if (busy) {
      replace(result, h('div', { class: 'callout' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, 'Checking the photos…')));
      return;
    }
    if (error) {
      replace(result, h('div', { class: 'callout callout-error', role: 'alert', id: 'scan-error' }, icon('alert'),
        h('div', {}, h('strong', {}, 'This folder cannot be used. '), h('span', { class: 'server-message' }, error))));
      return;
    }
    const scan = state.scan?.path === path ? state.scan.result : null;
    if (!path) {
      replace(result, h('p', { class: 'muted small' }, 'Type the path of a folder of photos.'));
      return;
    }
    if (!scan) return void result.replaceChildren();
    const good = scan.usable > 0;
    const reasons = Object.entries(scan.reasons || {});
    const where = Object.entries(scan.subfolders || {}); // [subfolder, usable photos]
    replace(result, h('div', { class: `callout ${good ? 'callout-ok' : 'callout-error'}`, role: good ? null : 'alert', id: good ? 'scan-ok' : 'scan-error' },
      icon(good ? 'check' : 'alert'),
      h('div', { class: 'scan-summary' },
        h('strong', { class: 'scan-usable' }, good ? `${plural(scan.usable, 'usable photo')}` : 'No usable photos here'),
        h('span', { class: 'muted' }, ' in ', h('code', { id: 'scan-folder' }, scan.folder)),
        scan.relative_to ? h('div', { class: 'muted small', id: 'scan-relative' },
          'A relative path starts from ', h('code', {}, scan.relative_to), ', the folder TN Studio runs in.') : null,
        where.length > 1 || (where.length === 1 && where[0][0] !== '.') ? h('div', { class: 'scan-where', id: 'scan-where' },
          'Searched with its subfolders: ', where.map(([sub, n], i) => [i ? ', ' : '', `${n} in `,
            h('code', {}, sub === '.' ? 'the folder itself' : `${sub}/`)]), '. Every image in them is trained on.') : null,
        scan.skipped ? h('div', { class: 'scan-skipped' },
          `${plural(scan.skipped, 'image file')} will be skipped: `,
          reasons.map(([kind, n], i) => [i ? ', ' : '', `${n} ${kind}`])) : null,
        scan.others ? h('div', { class: 'scan-others muted', id: 'scan-others' },
          `${plural(scan.others, 'other file')} ignored (not images): `,
          scan.other_examples.map((p, i) => [i ? ', ' : '', h('code', {}, p)]), scan.others > scan.other_examples.length ? ', …' : '') : null,
        scan.examples?.length ? h('details', { class: 'scan-examples' },
          h('summary', {}, 'Show skipped files'),
          h('ul', {}, scan.examples.map(([p, reason]) => h('li', {}, h('code', {}, p), ` — ${reason}`)))) : null)),
    scan.thumbnails?.length ? h('div', { class: 'thumbs', 'aria-label': 'Some of the photos' },
      scan.thumbnails.map((src, i) => h('img', { src, alt: `Photo ${i + 1}`, width: 96, height: 96, class: 'thumb' }))) : null);
  }

  async function scan() {
    const path = currentPath();
    controller?.abort();
    error = null;
    if (!path) {
      busy = false;
      renderResult();
      changed();
      return;
    }
    if (state.scan?.path === path && state.scan.result.thumbnails?.length) {
      busy = false;
      renderResult();
      changed();
      return;
    }
    const mine = ++seq;
    controller = new AbortController();
    busy = true;
    renderResult();
    changed();
    try {
      const res = await api.scanDataset(path, controller.signal);
      if (mine !== seq) return;
      state.scan = { path, result: res };
      state.dataPath = state.dataMode === 'folder' ? path : state.dataPath;
    } catch (err) {
      if (err.name === 'AbortError' || mine !== seq) return;
      error = err.message;
      state.scan = null;
    }
    busy = false;
    renderResult();
    changed();
  }

  const later = debounce(scan, SCAN_DELAY_MS);
  input.addEventListener('input', () => {
    state.dataPath = input.value;
    error = null;
    controller?.abort();
    busy = !!input.value.trim();
    renderResult();
    changed();
    later();
  });
  input.addEventListener('blur', () => {
    if (busy) {
      later.cancel();
      scan();
    }
  });

  function modeChanged() {
    folderField.hidden = state.dataMode !== 'folder';
    later.cancel();
    scan();
    if (state.dataMode === 'folder') input.focus();
  }

  folderField.hidden = state.dataMode !== 'folder';
  if (currentPath()) scan();
  else renderResult();

  return {
    valid: () => !busy && !error && state.scan?.path === currentPath() && state.scan.result.usable > 0,
    busy: () => busy,
    why: () => (busy ? 'Checking…' : error ? 'Choose a folder with usable photos.' : 'Choose the photos to train on.'),
    onEnter: () => {
      later.cancel();
      scan();
    },
    cleanup: () => {
      later.cancel();
      controller?.abort();
    },
  };
}
