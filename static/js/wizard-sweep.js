// "Sweep a setting" (wizard step 3): one run per value of one setting, everything else equal,
// to choose by eye in the compare view. state.sweep = {setting, text, name} or setting ''.
import { h, newId } from './dom.js';
import { field, parseSweep, suggestSweep, sweepable } from './settings.js';
import { sweepValueLimits } from './protocol.js';

export const sweepLabel = (key) => field(key).label;

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
    hint.textContent = `Suggested: ${suggestFor(sw.setting)}. ${r.values ? `${r.values.length} runs` : 'One run per value'}, `
      + 'every other setting equal; they train one after another (one per GPU at a time), and open side by side.';
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
