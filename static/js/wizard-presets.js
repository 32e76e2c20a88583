// The settings step's presets (settings.js: each mode's, the standard one being its defaults):
// a choice of run sizes, each with its time on this machine. The preset the settings match is
// checked; none, once they match none ("custom").
import { h } from './dom.js';
import { effectiveDevice, estimateSeconds, presets } from './settings.js';
import { roughDuration } from './format.js';

// choose(preset): a preset picked. -> {el, check(id), showTimes(s, device)}
export function presetPicker(mode, choose) {
  const list = presets(mode);
  const el = h('fieldset', { class: 'choice-group' },
    h('legend', { class: 'section-title' }, 'Preset'),
    h('div', { class: 'preset-row' }, list.map((p) => presetChoice(p, choose))),
    h('p', { class: 'muted small preset-custom', id: 'preset-custom', hidden: true }, 'Custom settings (edited in Advanced).'));

  // id: the preset the settings match, or null.
  function check(id) {
    for (const input of el.querySelectorAll('input')) input.checked = input.value === id;
    el.querySelector('#preset-custom').hidden = !!id;
  }

  // Each preset's time, estimated as the device card's is (the rest of the settings as they are
  // now): the words never promise what the estimate does not say. Nothing until the device is known.
  function showTimes(s, device) {
    for (const p of list) {
      const out = el.querySelector(`#preset-time-${p.id}`);
      if (!device) { out.textContent = ''; continue; }
      const settings = { ...s, ...p.values };
      const kind = effectiveDevice(settings.device, device);
      out.textContent = `${roughDuration(estimateSeconds(kind, settings, device, mode)).replace(/^about/, 'About')} here (${kind === 'cuda' ? 'GPU' : 'CPU'}).`;
    }
  }
  return { el, list, check, showTimes };
}

function presetChoice(p, choose) {
  const input = h('input', { type: 'radio', name: 'preset', value: p.id, id: `preset-${p.id}`, class: 'sr-only-input' });
  input.addEventListener('change', () => choose(p));
  return h('label', { class: 'choice preset', for: input.id, dataset: { preset: p.id } }, input,
    h('span', { class: 'choice-text' }, h('strong', {}, p.name), h('span', { class: 'muted small' }, p.blurb,
      h('span', { class: 'preset-time', id: `preset-time-${p.id}` }))));
}
