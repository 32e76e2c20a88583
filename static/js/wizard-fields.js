// The settings step's fields, each drawn from its entry in worker/settings.json: a number, a
// choice (and, in wizard-style-weights.js, the style weights). Each takes the step's form and
// returns {el, sync()}: sync() shows form.s's value again (after a preset or a reset) and
// drops the field's error.
import { h, newId } from './dom.js';
import { field, modeDefaults, parseField, settingWords } from './settings.js';
import { settingsSchema } from './protocol.js';

// What the fields share: the settings they edit, the mode's defaults and words, the errors
// shown (input id -> message; Next stays off while there are any), and changed() after an edit.
export function settingsForm(s, mode, changed) {
  return { s, mode, defaults: modeDefaults(mode), errors: new Map(), changed };
}

// The error line under an input; show(message) also marks the input and counts the error.
export function errorLine(form, input) {
  const el = h('p', { class: 'field-error', id: `${input.id}-error`, 'aria-live': 'polite' });
  function show(message) {
    if (message) form.errors.set(input.id, message);
    else form.errors.delete(input.id);
    input.setAttribute('aria-invalid', String(!!message));
    el.textContent = message || '';
  }
  return { el, show, clear: () => input.getAttribute('aria-invalid') === 'true' && show(null) };
}

// A text input for a number: each edit is parsed by the type and bounds of setting `rule`
// (parseField), its error shown, a valid value handed to store(value).
export function numberInput(form, { id, name, rule, value, placeholder, describedBy, store }) {
  const input = h('input', {
    id, name, type: 'text', inputmode: field(rule).kind === 'int' ? 'numeric' : 'decimal', class: 'input input-num',
    value, placeholder, 'aria-describedby': describedBy, autocomplete: 'off',
  });
  const error = errorLine(form, input);
  input.addEventListener('input', () => {
    const r = parseField(rule, input.value);
    error.show(r.error);
    if (!r.error) store(r.value);
    form.changed();
  });
  return { input, error };
}

const defaultNote = (shown) => h('span', { class: 'default' }, `Default: ${shown}.`);

// A number setting; empty means auto where its default is null.
export function numberField(form, key) {
  const id = newId(key);
  const def = form.defaults[key];
  const { label, unit, help } = settingWords(key, form.mode);
  const { input, error } = numberInput(form, {
    id, name: key, rule: key, value: form.s[key] ?? '', placeholder: def === null ? 'auto' : String(def),
    describedBy: `${id}-hint ${id}-error`, store: (v) => { form.s[key] = v; },
  });
  const el = h('div', { class: 'field' },
    h('label', { for: id, class: 'label' }, unit ? `${label} (${unit})` : label),
    input,
    h('p', { class: 'hint', id: `${id}-hint` }, help, ' ', defaultNote(def === null ? 'auto' : def.toLocaleString('en-US'))),
    error.el);
  return { el, sync() { input.value = form.s[key] ?? ''; error.clear(); } };
}

// A choice setting, its options named by settings.json's choice_labels.
export function choiceField(form, key) {
  const { choices, choice_labels: names = {} } = settingsSchema()[key];
  const { label, help } = settingWords(key, form.mode);
  const id = newId(key);
  const select = h('select', { id, name: key, class: 'input', 'aria-describedby': `${id}-hint` },
    choices.map((value) => h('option', { value, selected: form.s[key] === value }, names[value] ?? value)));
  select.addEventListener('change', () => {
    form.s[key] = select.value;
    form.changed();
  });
  const el = h('div', { class: 'field' }, h('label', { for: id, class: 'label' }, label), select,
    h('p', { class: 'hint', id: `${id}-hint` }, help, ' ', defaultNote(form.defaults[key])));
  return { el, sync() { select.value = form.s[key] ?? ''; } };
}
