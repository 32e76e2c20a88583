// The loss network's weights (VGG-19), checked while the wizard is open (GET /api/vgg-weights):
// ImageNet found in the torch cache, to be downloaded by the first run (548 MB), or not to be had
// here; a file on the server that loads as a VGG-19 state dict or not; random weights, a try only.
// The settings step offers the choices (weightsSection); the review step says what will happen
// (weightsSummary); a run prefilled by Run again… opens at this setting when its weights cannot
// be had (wizard.js).
import { h, icon, newId, replace, debounce } from './dom.js';

const known = new Map(); // spec -> {at, answer: Promise of the weights}, for a short while
const KEEP_MS = 30000; // a file copied into the cache meanwhile is seen on the next look

export function checkWeights(spec) {
  const key = String(spec || 'imagenet').trim() || 'imagenet';
  if (key === 'random') return Promise.resolve({ kind: 'random' }); // nothing to look for
  const kept = known.get(key);
  if (kept && Date.now() - kept.at < KEEP_MS) return kept.answer;
  const answer = fetch(`/api/vgg-weights?spec=${encodeURIComponent(key)}`, { headers: { Accept: 'application/json' } })
    .then(async (res) => {
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
      return body.weights;
    });
  known.set(key, { at: Date.now(), answer });
  answer.catch(() => known.delete(key)); // asked again next time
  return answer;
}

// A run with these weights would fail at its start.
export const weightsUnusable = (w) => !!w && ((w.kind === 'imagenet' && !w.found && !w.reachable) || (w.kind === 'path' && !w.ok));

const RANDOM_NOTE = 'The network learns the texture’s colours and local structure only, not what ImageNet '
  + 'features see in a painting; the run records it.';

// {cls, id, text: [...]} saying what a run with weights `w` gets.
function describe(w) {
  if (w.kind === 'random') return { cls: 'callout-warn', icon: 'alert', text: [h('strong', {}, 'Random VGG weights (a try). '), RANDOM_NOTE] };
  if (w.kind === 'path') {
    return w.ok
      ? { cls: 'callout-ok', icon: 'check', text: [h('strong', {}, 'This file loads as VGG-19 weights: '), h('code', {}, w.file), '.'] }
      : { cls: 'callout-error', icon: 'alert', text: [h('strong', {}, 'This file cannot be used: '), w.why, '. A run with it would fail at its start.'] };
  }
  if (w.found) {
    return { cls: 'callout-ok', icon: 'check', text: [h('strong', {}, 'ImageNet VGG-19 weights found'), ' in the torch cache: ', h('code', {}, w.file), '.'] };
  }
  if (w.reachable) {
    return { cls: 'callout', icon: 'download', text: [h('strong', {}, `The first run downloads the ImageNet VGG-19 weights (${w.mb} MB, once)`),
      ' into ', h('code', {}, w.file), '; its dashboard shows how far it is.'] };
  }
  return { cls: 'callout-error', icon: 'alert', text: [h('strong', {}, 'The ImageNet VGG-19 weights cannot be had here. '),
    'They are not in the torch cache (', h('code', {}, w.file), `), and ${w.why}, so the ${w.mb} MB download cannot start. `,
    'A run with them would fail at its start: choose a weights file on this machine (',
    h('code', {}, w.file.split('/').pop()), ', copied from one that has it), or random weights for a try.'] };
}

function callout(w, extra = []) {
  const d = describe(w);
  return h('div', { class: `callout ${d.cls} vgg-callout`, id: 'vgg-status', dataset: { state: stateOf(w) }, role: d.cls === 'callout-error' ? 'alert' : null },
    icon(d.icon), h('div', {}, d.text, extra));
}

// found | download | unavailable | random | file-ok | file-bad: for tests and styles.
function stateOf(w) {
  if (w.kind === 'random') return 'random';
  if (w.kind === 'path') return w.ok ? 'file-ok' : 'file-bad';
  return w.found ? 'found' : w.reachable ? 'download' : 'unavailable';
}

const checkFailed = (why) => h('div', { class: 'callout callout-warn', id: 'vgg-status', dataset: { state: 'error' } }, icon('alert'),
  h('span', {}, `Could not check the VGG-19 weights: ${why}`));

const checking = (what) => h('div', { class: 'callout vgg-callout', id: 'vgg-status', dataset: { state: 'checking' } },
  h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, what));

// The section's controls: the choice (ImageNet, a file, random), the file's path (shown when a
// file is chosen) and the slot that says what the choice will get.
function weightsControls() {
  const id = newId('vgg');
  const select = h('select', { id, name: 'vgg_weights', class: 'input', 'aria-describedby': `${id}-hint` },
    h('option', { value: 'imagenet' }, 'ImageNet (torchvision)'),
    h('option', { value: 'path' }, 'A file on this machine…'),
    h('option', { value: 'random' }, 'Random weights (a try; for testing only)'));
  const pathId = newId('vgg-path');
  const pathInput = h('input', { id: pathId, type: 'text', class: 'input input-mono', placeholder: '/path/to/vgg19-dcbb9e9d.pth',
    autocomplete: 'off', spellcheck: false, 'aria-describedby': `${pathId}-error` });
  const pathError = h('p', { class: 'field-error', id: `${pathId}-error`, 'aria-live': 'polite' });
  const pathField = h('div', { class: 'field vgg-path-field' },
    h('label', { for: pathId, class: 'label' }, 'VGG-19 weights file'), pathInput,
    h('p', { class: 'hint' }, 'A torchvision VGG-19 state dict (whole, or its features alone), on the machine that trains. It is loaded to check it.'),
    pathError);
  const status = h('div', { class: 'vgg-status-slot', 'aria-live': 'polite' });
  const el = h('section', { class: 'vgg-section', id: 'vgg-section', 'aria-labelledby': `${id}-title` },
    h('h3', { class: 'section-title', id: `${id}-title` }, 'Loss network: VGG-19 weights'),
    h('div', { class: 'field' }, h('label', { for: id, class: 'label' }, 'Weights'), select,
      h('p', { class: 'hint', id: `${id}-hint` }, 'The style and content losses are measured with VGG-19. ImageNet weights give real styles.')),
    pathField, status);
  return { el, select, pathInput, pathError, pathField, status };
}

// The status slot's callout for a check: its answer w (null while checking) or the error that
// stopped it; for ImageNet weights that cannot be had, the other choices (choose(choice)).
function statusCallout(choice, w, error, choose) {
  if (error) return checkFailed(error);
  if (!w) return checking(choice === 'path' ? 'Loading the file to check it…' : 'Looking for the VGG-19 weights…');
  const offer = weightsUnusable(w) && w.kind === 'imagenet' ? h('div', { class: 'vgg-choices' },
    h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'vgg-use-file', onclick: () => choose('path') }, 'Use a weights file…'),
    h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'vgg-use-random', onclick: () => choose('random') }, 'Use random weights for a try')) : null;
  return callout(w, [offer]);
}

// The section as the latest check left it: the path's error, and the status callout.
function showCheck(ui, pathMissing, { current, error }, choose) {
  const choice = ui.select.value;
  ui.pathField.hidden = choice !== 'path';
  if (pathMissing) {
    ui.pathError.textContent = 'Give the path of a VGG-19 weights file.';
    ui.status.replaceChildren();
    return;
  }
  const badFile = choice === 'path' && !!current && !current.ok;
  ui.pathError.textContent = badFile ? current.why : '';
  ui.pathInput.setAttribute('aria-invalid', String(badFile));
  replace(ui.status, statusCallout(choice, current, error, choose));
}

const choiceOf = (spec) => (['imagenet', 'random'].includes(spec) ? spec : 'path');

// The check of the chosen weights. latest: the answer to the latest check (current; null while
// checking) or why it failed (error); an answer to an earlier check is dropped. onChange():
// after each change of what is known.
function weightsCheck(onChange) {
  let seq = 0;
  const latest = { current: null, error: null };
  function settle(mine, current, error = null) {
    if (mine !== seq) return;
    Object.assign(latest, { current, error });
    onChange();
  }
  // A check begins: nothing known. Returns its number.
  function start() {
    settle(++seq, null);
    return seq;
  }
  function run(spec) {
    const mine = start();
    if (spec === 'random') return settle(mine, { kind: 'random' }); // nothing to look for: said at once
    checkWeights(spec).then((w) => settle(mine, w), (err) => settle(mine, null, err.message));
  }
  return { latest, start, run };
}

// The settings step's "Loss network" section: the choice and what it will get, checked as it
// changes (a typed path once the typing stops). s: the settings (s.vgg_weights is set);
// changed(): after any change. Returns {el, sync(), valid(), busy(), why(), focus(), cleanup()}.
export function weightsSection(s, changed) {
  const ui = weightsControls();
  const { select, pathInput } = ui;
  const pathMissing = () => select.value === 'path' && !s.vgg_weights;
  const check = weightsCheck(() => {
    showCheck(ui, pathMissing(), check.latest, choose);
    changed();
  });
  const checkNow = () => (pathMissing() ? check.start() : check.run(s.vgg_weights));
  const checkLater = debounce(checkNow, 500);

  function update() {
    s.vgg_weights = select.value === 'path' ? pathInput.value.trim() : select.value;
    checkLater.cancel();
    if (select.value === 'path') {
      check.start();
      checkLater();
    } else checkNow();
  }

  function choose(choice) {
    select.value = choice;
    update();
    if (choice === 'path') pathInput.focus();
  }

  // From s (a preset, a reset, a prefilled run).
  function sync() {
    const choice = choiceOf(s.vgg_weights);
    if (select.value === choice && (choice !== 'path' || pathInput.value.trim() === s.vgg_weights)) return;
    select.value = choice;
    pathInput.value = choice === 'path' ? s.vgg_weights : '';
    checkNow();
  }

  select.addEventListener('change', update);
  pathInput.addEventListener('input', update);
  select.value = choiceOf(s.vgg_weights);
  pathInput.value = select.value === 'path' ? s.vgg_weights : '';
  checkNow();
  const { latest } = check;
  return {
    el: ui.el,
    sync,
    valid: () => !pathMissing() && !weightsUnusable(latest.current),
    busy: () => !latest.current && !latest.error && !pathMissing(),
    why: () => (pathMissing() ? 'Give the VGG-19 weights file, or choose other weights.'
      : !latest.current && !latest.error ? 'Checking the VGG-19 weights…' : 'The VGG-19 weights cannot be had: choose a file or random weights.'),
    focus() {
      ui.el.scrollIntoView({ block: 'center' });
      select.focus({ preventScroll: true });
    },
    cleanup: () => checkLater.cancel(),
  };
}

// The review step's row: what a run with these weights gets; onFix() goes back to the setting.
// Calls done(w) once known (null when the check failed).
export function weightsSummary(spec, onFix, done) {
  const slot = h('div', { class: 'vgg-summary', id: 'review-vgg', 'aria-live': 'polite' }, checking('Looking for the VGG-19 weights…'));
  checkWeights(spec).then((w) => {
    const fix = weightsUnusable(w) ? h('div', { class: 'vgg-choices' },
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'vgg-fix', onclick: onFix }, 'Change the weights in Settings')) : null;
    replace(slot, callout(w, [fix]));
    done(w);
  }).catch((err) => {
    replace(slot, checkFailed(err.message));
    done(null);
  });
  return slot;
}
