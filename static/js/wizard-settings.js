// Wizard step 3: presets, every trainer option (Advanced), the device and a time estimate, and
// an optional sweep of one setting; all for the mode chosen in step 1 (its presets and defaults,
// and only the settings that mean something to it).
import { h, newId, replace } from './dom.js';
import { effectiveDevice, estimateSeconds, field, matchingPreset, modeDefaults, parseField, presets, styleLayers, usedIn } from './settings.js';
import { deviceCard, getDevice } from './device.js';
import { settingsSchema } from './protocol.js';
import { int, roughDuration } from './format.js';
import { chosenSweep, sweepSeconds, sweepSection } from './wizard-sweep.js';
import { weightsSection } from './wizard-weights.js';

export function settingsStep(el, { state, changed }) {
  const s = state.settings;
  const mode = state.mode || 'stylize';
  const defaults = () => modeDefaults(mode);
  const PRESETS = presets(mode);
  // settings.json's words are a stylization run's: what a synthesis run's fields mean instead.
  const words = mode !== 'synthesis' ? {} : {
    image_size: { help: 'The size of the square samples generated in training; a trained network makes samples of any size.' },
    batch_size: { unit: 'samples', help: 'Samples (each from its own noise) per optimiser step.' },
    preview_every: { help: 'Draw the samples of seeds 0 to 3, and one tiled 2×2, this often.' },
  };
  const errors = new Map(); // field id -> message
  const inputs = new Map(); // key -> input(s), for presets and reset
  let device = null;
  let deviceError = null;

  // -- presets ---------------------------------------------------------------------------
  const presetGroup = h('fieldset', { class: 'choice-group' },
    h('legend', { class: 'section-title' }, 'Preset'),
    h('div', { class: 'preset-row' }, PRESETS.map((p) => {
      const input = h('input', { type: 'radio', name: 'preset', value: p.id, id: `preset-${p.id}`, class: 'sr-only-input' });
      input.addEventListener('change', () => applyPreset(p));
      return h('label', { class: 'choice preset', for: input.id, dataset: { preset: p.id } }, input,
        h('span', { class: 'choice-text' }, h('strong', {}, p.name), h('span', { class: 'muted small' }, p.blurb,
          h('span', { class: 'preset-time', id: `preset-time-${p.id}` }))));
    })),
    h('p', { class: 'muted small preset-custom', id: 'preset-custom', hidden: true }, 'Custom settings (edited in Advanced).'));

  const deviceSlot = h('div', { class: 'device-slot', 'aria-live': 'polite' });

  // -- advanced --------------------------------------------------------------------------
  function numberField(key, { label = field(key).label, help = words[key]?.help ?? field(key).help } = {}) {
    if (!usedIn(key, mode)) return null;
    const id = newId(key);
    const errId = `${id}-error`;
    const def = defaults()[key];
    const input = h('input', {
      id, name: key, type: 'text', inputmode: field(key).kind === 'int' ? 'numeric' : 'decimal', class: 'input input-num',
      value: s[key] ?? '', placeholder: def === null ? 'auto' : String(def), 'aria-describedby': `${id}-hint ${errId}`, autocomplete: 'off',
    });
    inputs.set(key, input);
    input.addEventListener('input', () => {
      const r = parseField(key, input.value);
      setError(id, input, r.error);
      if (!r.error) s[key] = r.value;
      settingsChanged();
    });
    const unitName = words[key]?.unit ?? field(key).unit;
    const unit = unitName ? ` (${unitName})` : '';
    return h('div', { class: 'field' },
      h('label', { for: id, class: 'label' }, label + unit),
      input,
      h('p', { class: 'hint', id: `${id}-hint` }, help, ' ', h('span', { class: 'default' }, `Default: ${def === null ? 'auto' : def.toLocaleString('en-US')}.`)),
      h('p', { class: 'field-error', id: errId, 'aria-live': 'polite' }));
  }

  // A choice from settings.json, its options shown by `names`.
  function selectField(key, names) {
    const { label, help, choices } = settingsSchema()[key];
    const id = newId(key);
    const select = h('select', { id, name: key, class: 'input', 'aria-describedby': `${id}-hint` },
      choices.map((value) => h('option', { value, selected: s[key] === value }, names[value] ?? value)));
    inputs.set(key, select);
    select.addEventListener('change', () => {
      s[key] = select.value;
      settingsChanged();
    });
    return h('div', { class: 'field' }, h('label', { for: id, class: 'label' }, label), select,
      h('p', { class: 'hint', id: `${id}-hint` }, help, ' ', h('span', { class: 'default' }, `Default: ${defaults()[key]}.`)));
  }

  function setError(id, input, message) {
    if (message) errors.set(id, message);
    else errors.delete(id);
    input.setAttribute('aria-invalid', String(!!message));
    const out = document.getElementById(`${id}-error`);
    if (out) out.textContent = message || '';
  }

  const weights = h('fieldset', { class: 'field weights' },
    h('legend', { class: 'label' }, 'Style weights (relu1_1 … relu5_1)'),
    h('div', { class: 'weights-row' }, styleLayers().map((layer, i) => {
      const id = newId(`sw-${layer}`);
      const input = h('input', { id, type: 'text', inputmode: 'decimal', class: 'input input-num', value: s.style_weights[i], placeholder: String(defaults().style_weights[i]), 'aria-describedby': `${id}-error`, autocomplete: 'off' });
      inputs.set(`style_weights.${i}`, input);
      input.addEventListener('input', () => {
        const r = parseField('style_weight', input.value);
        setError(id, input, r.error);
        if (!r.error) s.style_weights[i] = r.value;
        settingsChanged();
      });
      return h('div', { class: 'weight' }, h('label', { for: id, class: 'label small' }, layer), input,
        h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' }));
    })),
    h('p', { class: 'hint' }, 'Gram-matrix style loss weight of each VGG-19 layer. ', h('span', { class: 'default' }, `Default: ${defaults().style_weights.join(', ')}.`)));

  // VGG weights: imagenet | random | a path, with what each will get (wizard-weights.js).
  const vgg = weightsSection(s, () => changed());

  const resetBtn = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'reset-defaults' }, 'Reset all to defaults');
  resetBtn.addEventListener('click', () => {
    Object.assign(s, structuredClone(defaults()));
    syncInputs();
    settingsChanged();
  });

  const advanced = h('details', { class: 'advanced', id: 'advanced', open: state.advancedOpen || false },
    h('summary', {}, h('span', {}, 'Advanced: every trainer option')),
    h('div', { class: 'advanced-body' },
      h('div', { class: 'adv-group' }, h('h4', {}, 'Images'),
        h('div', { class: 'field-grid' }, numberField('image_size'), numberField('style_size'), numberField('batch_size'))),
      h('div', { class: 'adv-group' }, h('h4', {}, 'Schedule'),
        h('div', { class: 'field-grid' }, numberField('iterations'), numberField('lr'), numberField('lr_step'), numberField('lr_decay'),
          numberField('checkpoint_every'), numberField('preview_every'))),
      h('div', { class: 'adv-group' }, h('h4', {}, 'Losses and generator'),
        weights,
        h('div', { class: 'field-grid' }, numberField('balance'), numberField('content_weight'), numberField('noise'), numberField('diversity'), numberField('scales'),
          selectField('norm', { instance: 'Instance norm', batch: 'Batch norm' }))),
      h('div', { class: 'adv-group' }, h('h4', {}, 'Machine'),
        h('div', { class: 'field-grid' },
          selectField('device', { auto: 'Auto', cpu: 'CPU', cuda: 'CUDA GPU' }),
          selectField('precision', { auto: 'Auto', fp32: 'fp32' }),
          numberField('workers'), numberField('seed'))),
      h('div', { class: 'adv-foot' }, resetBtn)));
  advanced.addEventListener('toggle', () => {
    state.advancedOpen = advanced.open;
  });

  const sweep = sweepSection(state, () => {
    renderDevice();
    changed();
  });
  el.append(presetGroup, deviceSlot, vgg.el, advanced, sweep.el);

  function syncInputs() {
    for (const [key, input] of inputs) {
      if (key.startsWith('style_weights.')) input.value = s.style_weights[Number(key.split('.')[1])];
      else input.value = s[key] ?? '';
      if (input.getAttribute('aria-invalid') === 'true') setError(input.id, input, null);
    }
    errors.clear();
    for (const e of advanced.querySelectorAll('.field-error')) e.textContent = '';
    vgg.sync();
  }

  function applyPreset(p) {
    Object.assign(s, p.values);
    syncInputs();
    settingsChanged();
  }

  function renderPreset() {
    const id = matchingPreset(s, mode);
    state.preset = id;
    for (const input of presetGroup.querySelectorAll('input')) input.checked = input.value === id;
    presetGroup.querySelector('#preset-custom').hidden = !!id;
  }

  // Each preset's time on this machine, estimated as the device card's is: the words never
  // promise what the estimate does not say.
  function renderPresetTimes() {
    for (const p of PRESETS) {
      const out = presetGroup.querySelector(`#preset-time-${p.id}`);
      if (!device) { out.textContent = ''; continue; }
      const settings = { ...s, ...p.values };
      const kind = effectiveDevice(settings.device, device);
      out.textContent = `${roughDuration(estimateSeconds(kind, settings, device, mode)).replace(/^about/, 'About')} here (${kind === 'cuda' ? 'GPU' : 'CPU'}).`;
    }
  }

  // A sweep: all its runs, as this machine trains them (sweepRuns: one per GPU at a time, else in turn).
  function sweepEstimate() {
    const sw = chosenSweep(state);
    if (!sw || !device) return null;
    const { seconds, words } = sweepSeconds(sw, s, device, mode);
    return h('p', { class: 'estimate', id: 'sweep-estimate' }, `The sweep: ${sw.values.length} runs, ${words}: `,
      h('strong', {}, roughDuration(seconds)), ' in all.');
  }

  function renderDevice() {
    renderPresetTimes();
    replace(deviceSlot, deviceCard(device, s, deviceError, mode), sweepEstimate());
    const what = mode === 'synthesis' ? 'texture samples' : 'photos';
    const it = h('p', { class: 'muted small run-shape' },
      `${int(s.iterations)} iterations × ${s.batch_size} ${what} of ${s.image_size} px = ${int(s.iterations * s.batch_size)} images; `,
      `a preview every ${int(s.preview_every)}, a checkpoint every ${int(s.checkpoint_every)} iterations`,
      s.iterations && s.preview_every && s.checkpoint_every ? ` (the estimate includes the ${int(Math.ceil(s.iterations / s.preview_every))} previews `
        + `and ${int(1 + Math.ceil(s.iterations / s.checkpoint_every))} evaluations of the held-out ${what}).` : '.');
    deviceSlot.append(it);
  }

  function settingsChanged() {
    state.settingsTouched = true;
    renderPreset();
    renderDevice();
    changed();
  }

  getDevice().then((d) => {
    device = d;
    // On a machine without a GPU, untouched settings start from the CPU preset.
    if (!state.settingsTouched && d.kind !== 'cuda' && matchingPreset(s, mode) === 'standard') {
      applyPreset(PRESETS.find((p) => p.id === 'quick'));
      return;
    }
    renderDevice();
  }).catch((err) => {
    deviceError = err.message;
    renderDevice();
  });
  renderPreset();
  renderDevice();

  if (state.focusWeights) { // Run again… of a run whose weights cannot be had: open at that setting
    delete state.focusWeights;
    requestAnimationFrame(() => vgg.focus());
  }

  return {
    valid: () => errors.size === 0 && !sweep.error() && !(s.device === 'cuda' && device && device.kind !== 'cuda') && vgg.valid(),
    busy: () => vgg.busy(),
    why: () => (errors.size ? 'Fix the highlighted settings.' : sweep.error() ? `Sweep: ${sweep.error()}`
      : s.device === 'cuda' && device && device.kind !== 'cuda' ? 'This machine has no CUDA GPU: choose another device.' : vgg.why()),
    cleanup: () => vgg.cleanup(),
  };
}
