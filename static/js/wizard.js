// The new run wizard (#/new): four steps, each validated before Next is enabled; the first says
// what to train (stylize photos, with their folder, or synthesize the texture). The choices are
// kept in sessionStorage, so a reload or a look at another page does not lose them.
import { h, icon, replace } from './dom.js';
import { MODES, modeDefaults } from './settings.js';
import { modeStep } from './wizard-mode.js';
import { textureStep } from './wizard-texture.js';
import { settingsStep } from './wizard-settings.js';
import { reviewStep } from './wizard-review.js';
import { checkWeights, weightsUnusable } from './wizard-weights.js';

const KEY = 'tn-studio.wizard';
const STEPS = [
  { name: 'Photos', title: 'What to train', mount: modeStep },
  { name: 'Texture', title: (st) => (st.mode === 'synthesis' ? 'Choose the texture to synthesize' : 'Choose a texture'), mount: textureStep },
  { name: 'Settings', title: 'Training settings', mount: settingsStep },
  { name: 'Review', title: 'Review and start', mount: reviewStep },
];

function freshState() {
  return {
    step: 0,
    mode: 'stylize', // 'stylize' | 'synthesis' (no photos)
    dataMode: 'folder', // 'folder' | 'sample'
    dataPath: '',
    scan: null, // {path, result} of the last successful scan
    texture: null,
    preset: 'standard',
    settings: structuredClone(modeDefaults('stylize')),
  };
}

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY));
    if (saved && typeof saved === 'object') {
      const state = { ...freshState(), ...saved };
      if (!MODES.includes(state.mode)) state.mode = 'stylize';
      state.settings = { ...structuredClone(modeDefaults(state.mode)), ...saved.settings };
      return state;
    }
  } catch { /* nothing saved */ }
  return freshState();
}

// Fills the wizard with a run's mode, photos, texture and settings, from its first step: "New run
// with these settings" (a failed run retried with one setting changed, or a variant of a good one).
export function prefillWizard(config) {
  const state = freshState();
  state.mode = config.mode === 'synthesis' ? 'synthesis' : 'stylize';
  state.settings = structuredClone(modeDefaults(state.mode));
  state.dataMode = config.data_dir === 'sample' ? 'sample' : 'folder';
  state.dataPath = state.dataMode === 'folder' ? String(config.data_dir || '') : '';
  // A command-line run names its texture by path: the wizard offers textures by name (its stem).
  state.texture = config.texture ? String(config.texture).split('/').pop().replace(/\.[^.]*$/, '') : null;
  for (const key of Object.keys(state.settings)) {
    if (config[key] !== undefined && config[key] !== null) state.settings[key] = structuredClone(config[key]);
  }
  // The wizard checks its VGG-19 weights: where they cannot be had (what made it fail), it opens
  // at that setting once the photos are checked.
  state.checkWeights = true;
  try {
    sessionStorage.setItem(KEY, JSON.stringify(state));
  } catch { /* storage off: the wizard starts empty */ }
}

export function wizardView(container) {
  document.title = 'New run · TN Studio';
  const state = load();
  const save = () => {
    try {
      const { scan, ...rest } = state;
      // thumbnails are data: URLs; keep the counts only
      sessionStorage.setItem(KEY, JSON.stringify({ ...rest, scan: scan && { path: scan.path, result: { ...scan.result, thumbnails: [] } } }));
    } catch { /* storage full or off */ }
  };

  const stepper = h('ol', { class: 'stepper', 'aria-label': 'Steps' });
  const heading = h('h1', {}, 'New run');
  const stepTitle = h('h2', { class: 'step-title', tabindex: '-1' });
  const body = h('div', { class: 'step-body' });
  const back = h('button', { type: 'button', class: 'btn btn-ghost', id: 'wizard-back' }, icon('back'), 'Back');
  const next = h('button', { type: 'button', class: 'btn btn-primary', id: 'wizard-next' }, 'Next', icon('next'));
  const hint = h('p', { class: 'nav-hint muted small', 'aria-live': 'polite' });
  const form = h('form', { class: 'wizard card', novalidate: true, 'aria-labelledby': 'wizard-step-title' },
    stepTitle, body,
    h('div', { class: 'wizard-nav' }, back, hint, next));
  stepTitle.id = 'wizard-step-title';
  const reset = h('button', { type: 'button', class: 'btn btn-link', id: 'wizard-reset' }, 'Start over');
  container.append(
    h('div', { class: 'page-head' },
      h('div', {}, heading, h('p', { class: 'page-sub' }, 'Train a texture network in four steps.')),
      reset),
    stepper, form);

  let current = null; // {valid(), cleanup?(), submit?()}
  let destroyed = false;

  function renderStepper() {
    replace(stepper, STEPS.map((s, i) => {
      const done = i < state.step;
      const here = i === state.step;
      const name = i === 0 && state.mode === 'synthesis' ? 'Synthesis' : s.name; // no photos then
      const label = h('span', { class: 'step-label' }, name);
      const num = h('span', { class: 'step-num', 'aria-hidden': 'true' }, done ? icon('check', 14) : String(i + 1));
      const inner = done
        ? h('button', { type: 'button', class: 'step-link', onclick: () => go(i), 'aria-label': `Step ${i + 1}: ${name} (done, go back)` }, num, label)
        : h('span', { class: 'step-link', 'aria-label': `Step ${i + 1}: ${name}${here ? ' (current)' : ''}` }, num, label);
      return h('li', { class: `step${done ? ' done' : ''}${here ? ' current' : ''}`, 'aria-current': here ? 'step' : null }, inner);
    }));
  }

  // Run again… of a run whose VGG-19 weights cannot be had: to the settings step once the photos
  // (and the texture) are good, the weights setting in view (wizard-settings.js).
  let toWeights = false;
  function refresh() {
    if (destroyed || !current) return;
    const ok = current.valid();
    if (toWeights && state.step === 0 && ok && state.texture) {
      toWeights = false;
      state.focusWeights = true;
      return void go(2);
    }
    next.disabled = !ok || !!current.busy?.();
    hint.textContent = ok ? '' : (current.why?.() || '');
    save();
  }

  function go(i, focus = true) {
    if (current?.cleanup) current.cleanup();
    state.step = Math.max(0, Math.min(STEPS.length - 1, i));
    const step = STEPS[state.step];
    stepTitle.textContent = typeof step.title === 'function' ? step.title(state) : step.title;
    form.dataset.step = String(state.step + 1);
    body.replaceChildren();
    renderStepper();
    back.hidden = state.step === 0;
    const last = state.step === STEPS.length - 1;
    replace(next, last ? [icon('play'), 'Start training'] : ['Next', icon('next')]);
    next.classList.toggle('btn-lg', last);
    current = step.mount(body, { state, changed: refresh, save, modeChanged: renderStepper, go });
    refresh();
    if (focus) stepTitle.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  back.addEventListener('click', () => go(state.step - 1));
  stepper.addEventListener('click', () => { toWeights = false; }); // the user chose where to go
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (next.disabled || !current?.valid()) return;
    if (state.step < STEPS.length - 1) return go(state.step + 1);
    next.disabled = true;
    const ok = await current.submit?.();
    if (ok) {
      sessionStorage.removeItem(KEY);
      return;
    }
    refresh();
  });
  next.addEventListener('click', () => form.requestSubmit());
  // Enter in a text field must not jump steps by surprise while the step is not valid.
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target.tagName === 'INPUT' && e.target.type !== 'submit') {
      e.preventDefault();
      if (current?.onEnter) current.onEnter(e);
    }
  });
  reset.addEventListener('click', () => {
    Object.assign(state, freshState());
    sessionStorage.removeItem(KEY);
    go(0);
  });

  // A restored wizard resumes at the first step whose choice is missing.
  if (state.step > 0 && state.mode !== 'synthesis' && !(state.scan?.result?.usable > 0)) state.step = 0;
  if (state.step > 1 && !state.texture) state.step = 1;
  if (state.checkWeights) {
    delete state.checkWeights;
    checkWeights(state.settings.vgg_weights).then((w) => {
      if (!weightsUnusable(w) || destroyed || state.step !== 0) return;
      toWeights = true;
      refresh();
    }).catch(() => { /* the settings step says so */ });
  }
  go(state.step, false);
  return () => {
    destroyed = true;
    current?.cleanup?.();
  };
}
