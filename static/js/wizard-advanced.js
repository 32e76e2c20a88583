// The settings step's "Advanced" section: every trainer option the mode uses, under the groups
// settings.json gives them (settingGroups), and a reset to the defaults. Folded by default; the
// wizard remembers whether it was open (state.advancedOpen).
import { h } from './dom.js';
import { settingsSchema } from './protocol.js';
import { settingGroups } from './settings.js';
import { choiceField, numberField } from './wizard-fields.js';
import { styleWeightsField } from './wizard-style-weights.js';

// Each settings.json type the wizard shows, and the field that edits it (floats: the style
// weights, the only list).
const FIELDS = { int: numberField, float: numberField, choice: choiceField, floats: styleWeightsField };
// A list of numbers is a row of inputs, too wide for a grid cell: it takes the group's width.
const WIDE = new Set(['floats']);

// -> {el, sync()}: sync() shows form.s in every field again. reset(): the button's action.
export function advancedSection(state, form, reset) {
  const fields = [];
  const groups = settingGroups(form.mode).map(({ title, keys }) => {
    const made = keys.map((key) => ({ key, ...FIELDS[settingsSchema()[key].type](form, key) }));
    fields.push(...made);
    return h('div', { class: 'adv-group' }, h('h4', {}, title), groupRows(made));
  });
  const resetButton = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'reset-defaults' }, 'Reset all to defaults');
  resetButton.addEventListener('click', reset);
  const el = h('details', { class: 'advanced', id: 'advanced', open: state.advancedOpen || false },
    h('summary', {}, h('span', {}, 'Advanced: every trainer option')),
    h('div', { class: 'advanced-body' }, groups, h('div', { class: 'adv-foot' }, resetButton)));
  el.addEventListener('toggle', () => {
    state.advancedOpen = el.open;
  });
  return { el, sync: () => fields.forEach((f) => f.sync()) };
}

// A group's fields in order: a wide one alone, the others in grids between them.
function groupRows(fields) {
  const rows = [];
  for (const { key, el } of fields) {
    if (WIDE.has(settingsSchema()[key].type)) rows.push(el);
    else if (rows.at(-1)?.classList.contains('field-grid')) rows.at(-1).append(el);
    else rows.push(h('div', { class: 'field-grid' }, el));
  }
  return rows;
}
