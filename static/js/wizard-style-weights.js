// The style weights: one number per VGG-19 layer (settings.json's style_weights: its labels
// name the layers), in a row of small inputs under one legend. Returns {el, sync()} as the
// fields of wizard-fields.js do.
import { h, newId } from './dom.js';
import { settingsSchema } from './protocol.js';
import { numberInput } from './wizard-fields.js';

export function styleWeightsField(form) {
  const { label, help, labels: layers } = settingsSchema().style_weights;
  const weights = layers.map((layer, i) => layerWeight(form, layer, i));
  const el = h('fieldset', { class: 'field weights' },
    h('legend', { class: 'label' }, `${label} (${layers[0]} … ${layers.at(-1)})`),
    h('div', { class: 'weights-row' }, weights.map((w) => w.el)),
    h('p', { class: 'hint' }, help, ' ', h('span', { class: 'default' }, `Default: ${form.defaults.style_weights.join(', ')}.`)));
  return { el, sync: () => weights.forEach((w) => w.sync()) };
}

// Layer i's weight, checked by the style weights' bounds.
function layerWeight(form, layer, i) {
  const id = newId(`sw-${layer}`);
  const { input, error } = numberInput(form, {
    id, rule: 'style_weight', value: form.s.style_weights[i], placeholder: String(form.defaults.style_weights[i]),
    describedBy: `${id}-error`, store: (v) => { form.s.style_weights[i] = v; },
  });
  const el = h('div', { class: 'weight' }, h('label', { for: id, class: 'label small' }, layer), input, error.el);
  return { el, sync() { input.value = form.s.style_weights[i]; error.clear(); } };
}
