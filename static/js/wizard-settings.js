// Wizard step 3: presets, every trainer option (Advanced), the device and a time estimate, and
// an optional sweep of one setting; all for the mode chosen in step 1 (its presets and defaults,
// and only the settings that mean something to it).
import { h, icon, newId, replace } from './dom.js';
import { field, matchingPreset, modeDefaults, parseField, presets, styleLayers, usedIn } from './settings.js';
import { deviceCard, getDevice } from './device.js';
import { settingsSchema } from './protocol.js';
import { int } from './format.js';
import { sweepSection } from './wizard-sweep.js';

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
        h('span', { class: 'choice-text' }, h('strong', {}, p.name), h('span', { class: 'muted small' }, p.blurb)));
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

  // VGG weights: imagenet | random | a path.
  const vggId = newId('vgg');
  const vggMode = ['imagenet', 'random'].includes(s.vgg_weights) ? s.vgg_weights : 'path';
  const vggSelect = h('select', { id: vggId, name: 'vgg_weights', class: 'input', 'aria-describedby': `${vggId}-hint` },
    h('option', { value: 'imagenet', selected: vggMode === 'imagenet' }, 'ImageNet'),
    h('option', { value: 'random', selected: vggMode === 'random' }, 'Random (for testing only)'),
    h('option', { value: 'path', selected: vggMode === 'path' }, 'A file on the server…'));
  const vggPathId = newId('vgg-path');
  const vggPath = h('input', { id: vggPathId, type: 'text', class: 'input input-mono', value: vggMode === 'path' ? s.vgg_weights : '', placeholder: '/path/to/vgg19-dcbb9e9d.pth', autocomplete: 'off', spellcheck: false, 'aria-describedby': `${vggPathId}-error` });
  const vggPathField = h('div', { class: 'field', hidden: vggMode !== 'path' },
    h('label', { for: vggPathId, class: 'label' }, 'VGG-19 weights file'), vggPath,
    h('p', { class: 'field-error', id: `${vggPathId}-error`, 'aria-live': 'polite' }));
  const vggWarn = h('p', { class: 'field-warn', hidden: vggMode !== 'random' }, icon('alert', 14), ' Random VGG weights: only the texture’s colours and local structure are learnt. For testing only.');
  inputs.set('vgg_weights', vggSelect);
  function vggChanged() {
    const mode = vggSelect.value;
    vggPathField.hidden = mode !== 'path';
    vggWarn.hidden = mode !== 'random';
    if (mode === 'path') {
      s.vgg_weights = vggPath.value.trim();
      setError(vggPathId, vggPath, s.vgg_weights ? null : 'Give the path of a VGG-19 state dict.');
    } else {
      s.vgg_weights = mode;
      setError(vggPathId, vggPath, null);
    }
    settingsChanged();
  }
  vggSelect.addEventListener('change', vggChanged);
  vggPath.addEventListener('input', vggChanged);

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
          h('div', { class: 'field' }, h('label', { for: vggId, class: 'label' }, settingsSchema().vgg_weights.label), vggSelect,
            h('p', { class: 'hint', id: `${vggId}-hint` }, 'Torchvision’s ImageNet VGG-19, or a state dict file. ', h('span', { class: 'default' }, `Default: ${defaults().vgg_weights}.`)), vggWarn),
          vggPathField,
          numberField('workers'), numberField('seed'))),
      h('div', { class: 'adv-foot' }, resetBtn)));
  advanced.addEventListener('toggle', () => {
    state.advancedOpen = advanced.open;
  });

  const sweep = sweepSection(state, changed);
  el.append(presetGroup, deviceSlot, advanced, sweep.el);

  function syncInputs() {
    for (const [key, input] of inputs) {
      if (key.startsWith('style_weights.')) input.value = s.style_weights[Number(key.split('.')[1])];
      else if (key === 'vgg_weights') input.value = ['imagenet', 'random'].includes(s.vgg_weights) ? s.vgg_weights : 'path';
      else input.value = s[key] ?? '';
      if (input.getAttribute('aria-invalid') === 'true') setError(input.id, input, null);
    }
    vggPath.value = ['imagenet', 'random'].includes(s.vgg_weights) ? '' : s.vgg_weights;
    vggPathField.hidden = vggSelect.value !== 'path';
    vggWarn.hidden = vggSelect.value !== 'random';
    errors.clear();
    for (const e of el.querySelectorAll('.field-error')) e.textContent = '';
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

  function renderDevice() {
    replace(deviceSlot, deviceCard(device, s, deviceError, mode));
    const what = mode === 'synthesis' ? 'texture samples' : 'photos';
    const it = h('p', { class: 'muted small run-shape' },
      `${int(s.iterations)} iterations × ${s.batch_size} ${what} of ${s.image_size} px = ${int(s.iterations * s.batch_size)} images; `,
      `a preview every ${int(s.preview_every)}, a checkpoint every ${int(s.checkpoint_every)} iterations.`);
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

  return {
    valid: () => errors.size === 0 && !sweep.error() && !(s.device === 'cuda' && device && device.kind !== 'cuda'),
    why: () => (errors.size ? 'Fix the highlighted settings.' : sweep.error() ? `Sweep: ${sweep.error()}`
      : 'This machine has no CUDA GPU: choose another device.'),
  };
}
