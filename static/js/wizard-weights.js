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

const checking = (what) => h('div', { class: 'callout vgg-callout', id: 'vgg-status', dataset: { state: 'checking' } },
  h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, what));

// The settings step's "Loss network" section: the choice (ImageNet, a file, random) and what it
// will get. s: the settings (s.vgg_weights is set); changed(): after any change.
// Returns {el, select, sync(), valid(), busy(), why(), focus()}.
export function weightsSection(s, changed) {
  const id = newId('vgg');
  const modeOf = (spec) => (['imagenet', 'random'].includes(spec) ? spec : 'path');
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

  let seq = 0;
  let current = null; // the last answer for s.vgg_weights, or null while checking
  let error = null; // the check itself failed

  function render() {
    const mode = select.value;
    pathField.hidden = mode !== 'path';
    if (mode === 'path' && !s.vgg_weights) {
      pathError.textContent = 'Give the path of a VGG-19 weights file.';
      status.replaceChildren();
      return;
    }
    pathError.textContent = mode === 'path' && current && !current.ok ? current.why : '';
    pathInput.setAttribute('aria-invalid', String(mode === 'path' && !!current && !current.ok));
    if (error) return void replace(status, h('div', { class: 'callout callout-warn', id: 'vgg-status', dataset: { state: 'error' } }, icon('alert'),
      h('span', {}, `Could not check the VGG-19 weights: ${error}`)));
    if (!current) return void replace(status, checking(mode === 'path' ? 'Loading the file to check it…' : 'Looking for the VGG-19 weights…'));
    const offer = weightsUnusable(current) && current.kind === 'imagenet' ? h('div', { class: 'vgg-choices' },
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'vgg-use-file', onclick: () => choose('path') }, 'Use a weights file…'),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'vgg-use-random', onclick: () => choose('random') }, 'Use random weights for a try')) : null;
    replace(status, callout(current, [offer]));
  }

  async function check() {
    const mine = ++seq;
    current = null;
    error = null;
    render();
    changed();
    if (select.value === 'path' && !s.vgg_weights) return;
    if (s.vgg_weights === 'random') { // nothing to look for: said at once
      current = { kind: 'random' };
      render();
      changed();
      return;
    }
    try {
      const w = await checkWeights(s.vgg_weights);
      if (mine !== seq) return;
      current = w;
    } catch (err) {
      if (mine !== seq) return;
      error = err.message;
    }
    render();
    changed();
  }
  const checkLater = debounce(check, 500);

  function choose(mode) {
    select.value = mode;
    update();
    if (mode === 'path') pathInput.focus();
  }

  function update() {
    const mode = select.value;
    s.vgg_weights = mode === 'path' ? pathInput.value.trim() : mode;
    if (mode === 'path') {
      ++seq;
      current = null;
      error = null;
      render();
      changed();
      checkLater();
    } else {
      checkLater.cancel();
      check();
    }
  }
  select.addEventListener('change', update);
  pathInput.addEventListener('input', update);

  // From s (a preset, a reset, a prefilled run).
  function sync() {
    const mode = modeOf(s.vgg_weights);
    if (select.value === mode && (mode !== 'path' || pathInput.value.trim() === s.vgg_weights)) return;
    select.value = mode;
    pathInput.value = mode === 'path' ? s.vgg_weights : '';
    check();
  }
  select.value = modeOf(s.vgg_weights);
  pathInput.value = select.value === 'path' ? s.vgg_weights : '';
  check();

  return {
    el,
    select,
    sync,
    valid: () => !(select.value === 'path' && !s.vgg_weights) && !weightsUnusable(current),
    busy: () => !current && !error && !(select.value === 'path' && !s.vgg_weights),
    why: () => (select.value === 'path' && !s.vgg_weights ? 'Give the VGG-19 weights file, or choose other weights.'
      : !current && !error ? 'Checking the VGG-19 weights…' : 'The VGG-19 weights cannot be had: choose a file or random weights.'),
    focus() {
      el.scrollIntoView({ block: 'center' });
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
    replace(slot, h('div', { class: 'callout callout-warn', id: 'vgg-status', dataset: { state: 'error' } }, icon('alert'),
      h('span', {}, `Could not check the VGG-19 weights: ${err.message}`)));
    done(null);
  });
  return slot;
}
