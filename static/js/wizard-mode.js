// Wizard step 1: what to train. Stylize photos (the folder of photos follows, in this step:
// wizard-dataset.js) or synthesize the texture (no photos: the texture step comes next). Switching
// moves every setting still at the old mode's default to the new mode's (settings.js switchMode).
import { h, icon } from './dom.js';
import { switchMode } from './settings.js';
import { datasetStep } from './wizard-dataset.js';

const CHOICES = [
  { value: 'stylize', title: 'Stylize photos', icon: 'image',
    text: 'Photo + noise in, the photo in the texture’s style out. Trains on a folder of photos.' },
  { value: 'synthesis', title: 'Synthesize this texture', icon: 'sparkle',
    text: 'Noise alone in: new samples of the texture, of any size, that tile without a seam. No photos.' },
];

export function modeStep(el, ctx) {
  const { state, changed } = ctx;
  const photos = h('div', { class: 'mode-photos' });
  let inner = null; // the photos step, in stylize mode

  const choice = h('fieldset', { class: 'choice-group mode-choice' },
    h('legend', { class: 'sr-only' }, 'What to train'),
    h('div', { class: 'choice-row' }, CHOICES.map((c) => {
      const input = h('input', { type: 'radio', name: 'mode', value: c.value, class: 'sr-only-input', checked: state.mode === c.value, id: `mode-${c.value}` });
      input.addEventListener('change', () => setMode(c.value));
      return h('label', { class: 'choice', for: input.id }, input,
        h('span', { class: 'choice-icon' }, icon(c.icon, 22)),
        h('span', { class: 'choice-text' }, h('strong', {}, c.title), h('span', { class: 'muted small' }, c.text)));
    })));
  el.append(choice, photos);

  function mount() {
    inner?.cleanup?.();
    photos.replaceChildren();
    inner = null;
    if (state.mode === 'synthesis') {
      photos.append(h('div', { class: 'callout', id: 'synthesis-note' }, icon('sparkle'),
        h('span', {}, 'The network learns from the texture alone. Next, choose the texture; once trained, generate ',
          'samples of any size from its dashboard.')));
    } else {
      photos.append(h('h3', { class: 'section-title' }, 'The training photos'));
      inner = datasetStep(photos, ctx);
    }
  }

  function setMode(mode) {
    if (mode === state.mode) return;
    state.settings = switchMode(state.settings, state.mode, mode);
    state.mode = mode;
    if (state.sweep) state.sweep.setting = ''; // a setting of the other mode may not be sweepable here
    mount();
    ctx.modeChanged?.();
    changed();
  }

  mount();
  return {
    valid: () => state.mode === 'synthesis' || !!inner?.valid(),
    busy: () => !!inner?.busy?.(),
    why: () => inner?.why?.() || '',
    onEnter: (e) => inner?.onEnter?.(e),
    cleanup: () => inner?.cleanup?.(),
  };
}
