// "Sweep a setting" (wizard step 3): one run per value of one setting, everything else equal,
// to choose by eye in the compare view. state.sweep = {setting, text, name} or setting ''.
import { h, newId } from './dom.js';
import { effectiveDevice, estimateSeconds, field, parseSweep, suggestSweep, sweepable } from './settings.js';
import { sweepValueLimits } from './protocol.js';
import { getDevice } from './device.js';

// How a sweep of n runs trains on this machine (the worker runs one run per GPU, one at a time on
// the CPU): {parallel, words}.
export function sweepRuns(device, n, kind = device?.kind) {
  const gpus = kind === 'cuda' ? device?.gpus?.length || 0 : 0;
  if (gpus > 1) return { parallel: Math.min(n, gpus), words: `up to ${Math.min(n, gpus)} at a time, one per GPU (${gpus} here)` };
  const where = gpus ? 'the GPU' : device?.kind === 'cuda' ? 'the CPU, as set' : 'the CPU (no GPU here)';
  return { parallel: 1, words: `one after another on ${where}` };
}

export const sweepLabel = (key) => field(key).label;

// A sweep's time on this machine: each run's estimate (its value changes it, for a size) added up,
// divided among the GPUs that train them at once: {seconds, words}.
export function sweepSeconds(sweep, s, device, mode) {
  const kind = effectiveDevice(s.device, device);
  const each = sweep.values.map((v) => estimateSeconds(kind, { ...s, [sweep.setting]: v }, device, mode));
  const { parallel, words } = sweepRuns(device, sweep.values.length, kind);
  return { seconds: each.reduce((a, b) => a + b, 0) / parallel, words };
}

// The sweep the wizard will start: {setting, values, name} or null (a single run).
export function chosenSweep(state) {
  const sw = state.sweep;
  if (!sw?.setting) return null;
  const r = parseSweep(sw.setting, sw.text);
  return r.error ? null : { setting: sw.setting, values: r.values, name: sw.name?.trim() || undefined };
}

export function sweepSection(state, changed) {
  state.sweep ??= { setting: '', text: '', name: '' };
  const sw = state.sweep;
  const [low, high] = sweepValueLimits();
  const selectId = newId('sweep-setting');
  const valuesId = newId('sweep-values');
  const nameId = newId('sweep-name');
  const select = h('select', { id: selectId, class: 'input', name: 'sweep_setting' },
    h('option', { value: '' }, 'No sweep: one run'),
    sweepable(state.mode).map((key) => h('option', { value: key, selected: sw.setting === key }, sweepLabel(key))));
  const values = h('input', { id: valuesId, type: 'text', class: 'input input-mono', value: sw.text, autocomplete: 'off',
    spellcheck: false, 'aria-describedby': `${valuesId}-hint ${valuesId}-error`, name: 'sweep_values' });
  const name = h('input', { id: nameId, type: 'text', class: 'input', value: sw.name, maxlength: 80, autocomplete: 'off',
    placeholder: 'e.g. how much style', name: 'sweep_name' });
  const hint = h('p', { class: 'hint', id: `${valuesId}-hint` });
  const error = h('p', { class: 'field-error', id: `${valuesId}-error`, 'aria-live': 'polite' });
  const details = h('div', { class: 'field-grid sweep-fields' },
    h('div', { class: 'field' }, h('label', { for: valuesId, class: 'label' }, `Values (${low} to ${high}, separated by commas)`), values, hint, error),
    h('div', { class: 'field' }, h('label', { for: nameId, class: 'label' }, 'Sweep name (optional)'), name));

  function suggestFor(key) {
    return suggestSweep(key, state.settings[key] ?? field(key).min).join(', ');
  }

  function render() {
    details.hidden = !sw.setting;
    if (!sw.setting) {
      error.textContent = '';
      values.removeAttribute('aria-invalid');
      return;
    }
    const r = parseSweep(sw.setting, sw.text);
    error.textContent = r.error || '';
    values.setAttribute('aria-invalid', String(!!r.error));
    const n = r.values?.length;
    const order = device ? sweepRuns(device, n || 2, device.kind === 'cuda' && state.settings.device !== 'cpu' ? 'cuda' : 'cpu').words
      : 'one after another, or one per GPU at a time';
    hint.textContent = `Suggested: ${suggestFor(sw.setting)}. ${n ? `${n} runs` : 'One run per value'}, `
      + `every other setting equal; here they train ${order}, and open side by side.`;
  }

  select.addEventListener('change', () => {
    sw.setting = select.value;
    if (sw.setting) sw.text = suggestFor(sw.setting);
    values.value = sw.text;
    render();
    changed();
  });
  values.addEventListener('input', () => {
    sw.text = values.value;
    render();
    changed();
  });
  name.addEventListener('input', () => {
    sw.name = name.value;
    changed();
  });
  let device = null;
  getDevice().then((d) => {
    device = d;
    render();
  }).catch(() => {});
  render();

  const el = h('section', { class: 'sweep-section', id: 'sweep', 'aria-labelledby': `${selectId}-title` },
    h('h3', { class: 'section-title', id: `${selectId}-title` }, 'Sweep a setting'),
    h('p', { class: 'muted small' }, 'Not sure how much style you want? Train a few variants and choose by eye.'),
    h('div', { class: 'field' }, h('label', { for: selectId, class: 'label' }, 'Setting to vary'), select),
    details);
  return {
    el,
    error: () => (sw.setting && parseSweep(sw.setting, sw.text).error) || null,
  };
}
