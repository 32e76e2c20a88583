// Wizard step 3: presets, the device and a time estimate, the loss network's weights, every
// trainer option (Advanced), and an optional sweep of one setting; all for the mode chosen in
// step 1 (its presets and defaults, and only the settings that mean something to it). The parts
// are components: wizard-presets.js, wizard-weights.js, wizard-advanced.js (its fields:
// wizard-fields.js, wizard-style-weights.js), wizard-sweep.js.
import { h, replace } from './dom.js';
import { matchingPreset } from './settings.js';
import { deviceCard, getDevice } from './device.js';
import { int, roughDuration } from './format.js';
import { chosenSweep, sweepSeconds, sweepSection } from './wizard-sweep.js';
import { weightsSection } from './wizard-weights.js';
import { presetPicker } from './wizard-presets.js';
import { advancedSection } from './wizard-advanced.js';
import { settingsForm } from './wizard-fields.js';

export function settingsStep(el, { state, changed }) {
  const s = state.settings;
  const mode = state.mode || 'stylize';
  const machine = { device: null, error: null }; // GET /api/device's answer, or why there is none
  const form = settingsForm(s, mode, settingsChanged);
  const picker = presetPicker(mode, (p) => setAll(p.values));
  const deviceSlot = h('div', { class: 'device-slot', 'aria-live': 'polite' });
  const advanced = advancedSection(state, form, () => setAll(structuredClone(form.defaults)));
  const vgg = weightsSection(s, () => changed());
  const sweep = sweepSection(state, () => {
    renderDevice();
    changed();
  });
  el.append(picker.el, deviceSlot, vgg.el, advanced.el, sweep.el);

  // A preset or the defaults: every field shows its new value, and no error is left.
  function setAll(values) {
    Object.assign(s, values);
    advanced.sync();
    form.errors.clear();
    vgg.sync();
    settingsChanged();
  }

  function renderDevice() {
    picker.showTimes(s, machine.device);
    replace(deviceSlot, deviceCard(machine.device, s, machine.error, mode), sweepEstimate(state, machine.device, mode), runShape(s, mode));
  }

  function showPreset() {
    state.preset = matchingPreset(s, mode);
    picker.check(state.preset);
  }

  function settingsChanged() {
    state.settingsTouched = true;
    showPreset();
    renderDevice();
    changed();
  }

  askDevice(machine, () => {
    // On a machine without a GPU, untouched settings start from the CPU preset.
    const cpuOnly = machine.device && machine.device.kind !== 'cuda';
    if (cpuOnly && !state.settingsTouched && matchingPreset(s, mode) === 'standard') setAll(picker.list.find((p) => p.id === 'quick').values);
    else renderDevice();
  });
  showPreset();
  renderDevice();

  if (state.focusWeights) { // Run again… of a run whose weights cannot be had: open at that setting
    delete state.focusWeights;
    requestAnimationFrame(() => vgg.focus());
  }

  const problem = () => stepProblem(form, sweep, s, machine.device);
  return {
    valid: () => !problem() && vgg.valid(),
    busy: () => vgg.busy(),
    why: () => problem() || vgg.why(),
    cleanup: () => vgg.cleanup(),
  };
}

// GET /api/device, once: machine.device, or machine.error saying why there is none; then done().
function askDevice(machine, done) {
  getDevice().then((d) => {
    machine.device = d;
  }, (err) => {
    machine.error = err.message;
  }).then(done);
}

// What keeps Next off, the weights aside (their section says), or null.
function stepProblem(form, sweep, s, device) {
  if (form.errors.size) return 'Fix the highlighted settings.';
  if (sweep.error()) return `Sweep: ${sweep.error()}`;
  if (s.device === 'cuda' && device && device.kind !== 'cuda') return 'This machine has no CUDA GPU: choose another device.';
  return null;
}

// A sweep: all its runs, as this machine trains them (sweepRuns: one per GPU at a time, else in turn).
function sweepEstimate(state, device, mode) {
  const sw = chosenSweep(state);
  if (!sw || !device) return null;
  const { seconds, words } = sweepSeconds(sw, state.settings, device, mode);
  return h('p', { class: 'estimate', id: 'sweep-estimate' }, `The sweep: ${sw.values.length} runs, ${words}: `,
    h('strong', {}, roughDuration(seconds)), ' in all.');
}

// What the settings make of a run, in images, and what the estimate counts besides the steps.
function runShape(s, mode) {
  const what = mode === 'synthesis' ? 'texture samples' : 'photos';
  return h('p', { class: 'muted small run-shape' },
    `${int(s.iterations)} iterations × ${s.batch_size} ${what} of ${s.image_size} px = ${int(s.iterations * s.batch_size)} images; `,
    `a preview every ${int(s.preview_every)}, a checkpoint every ${int(s.checkpoint_every)} iterations`,
    s.iterations && s.preview_every && s.checkpoint_every ? ` (the estimate includes the ${int(Math.ceil(s.iterations / s.preview_every))} previews `
      + `and ${int(1 + Math.ceil(s.iterations / s.checkpoint_every))} evaluations of the held-out ${what}).` : '.');
}
