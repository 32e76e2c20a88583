// Wizard step 4: a summary of the choices, then POST /api/runs and on to the dashboard (or, for a
// sweep, POST /api/sweeps and on to its comparison).
import { h, icon, replace } from './dom.js';
import { api, textureImage } from './api.js';
import { navigate } from './router.js';
import { upsertRun } from './store.js';
import { int, plural, roughDuration, title } from './format.js';
import { modeDefaults, presets, styleLayers, toConfig, usedIn } from './settings.js';
import { deviceCard, getDevice } from './device.js';
import { networkView } from './texture-view.js';
import { chosenSweep, sweepLabel, sweepSeconds } from './wizard-sweep.js';
import { weightsSummary, weightsUnusable } from './wizard-weights.js';

function row(label, value) {
  return h('div', { class: 'summary-row' }, h('dt', {}, label), h('dd', {}, value));
}

// The settings that differ from the mode's defaults (those the mode uses).
function changedSettings(s, mode) {
  const out = [];
  for (const [key, value] of Object.entries(modeDefaults(mode))) {
    if (usedIn(key, mode) && JSON.stringify(s[key]) !== JSON.stringify(value)) out.push(key);
  }
  return out;
}

export function reviewStep(el, { state, changed: refresh, go }) {
  const s = state.settings;
  const mode = state.mode || 'stylize';
  const synthesis = mode === 'synthesis';
  const scan = state.scan?.result;
  const preset = presets(mode).find((p) => p.id === state.preset);
  const errorBox = h('div', { class: 'start-error', 'aria-live': 'assertive' });
  const deviceSlot = h('div', {});
  const view = networkView();
  const sweep = chosenSweep(state);
  const sweepTime = h('span', { class: 'muted', id: 'review-sweep-time' }); // once the device is known
  let vgg; // what the VGG-19 weights check said: undefined while checking, null if it failed
  const weights = weightsSummary(s.vgg_weights, () => {
    state.focusWeights = true;
    go(2);
  }, (w) => {
    vgg = w;
    refresh();
  });

  const changed = changedSettings(s, mode);
  const settingLabel = (k) => (k === 'style_weights' ? `style weights (${styleLayers().join(', ')})` : k.replace(/_/g, ' '));
  const settingValue = (k) => (Array.isArray(s[k]) ? s[k].join(', ') : s[k] === null ? 'auto' : String(s[k]));

  el.append(
    h('div', { class: 'review-grid' },
      h('dl', { class: 'summary' },
        row('Mode', h('span', { id: 'review-mode' }, synthesis
          ? ['Texture synthesis', h('span', { class: 'muted' }, ' · noise in, new seamless samples of the texture out; no photos')]
          : ['Stylize photos', h('span', { class: 'muted' }, ' · photo + noise in, the photo in the texture’s style out')])),
        synthesis ? null : row('Photos', h('span', {}, state.dataMode === 'sample' ? 'Built-in sample photos' : h('code', {}, scan?.folder || state.dataPath.trim()),
          scan ? h('span', { class: 'muted' }, ` · ${plural(scan.usable, 'usable photo')}${scan.skipped ? `, ${scan.skipped} skipped` : ''}`) : null)),
        row('Texture', h('span', { class: 'summary-texture' },
          h('img', { src: textureImage(state.texture), alt: '', width: 40, height: 40 }), title(state.texture))),
        row('Preset', preset ? preset.name : 'Custom'),
        row('Training', `${int(s.iterations)} iterations, batch ${s.batch_size}, ${s.image_size} px ${synthesis ? 'samples' : 'photos'}, ${s.style_size} px texture`),
        sweep ? row('Sweep', h('span', { id: 'review-sweep' }, `${sweepLabel(sweep.setting)} = `,
          h('code', {}, sweep.values.join(', ')), h('span', { class: 'muted' }, ` · ${sweep.values.length} runs`
            + `${sweep.name ? ` · “${sweep.name}”` : ''}`), sweepTime)) : null,
        row('Outputs', `a preview every ${int(s.preview_every)} and a checkpoint every ${int(s.checkpoint_every)} iterations`),
        row('Changed from defaults', changed.length
          ? h('ul', { class: 'changed-list' }, changed.map((k) => h('li', {}, h('span', { class: 'muted' }, `${settingLabel(k)}: `), h('code', {}, settingValue(k)))))
          : 'nothing'),
        row('Loss network', weights)),
      h('div', { class: 'review-side' }, view.el)),
    deviceSlot,
    errorBox);

  view.update(state.texture, s.style_size);
  getDevice().then((d) => {
    replace(deviceSlot, deviceCard(d, s, null, mode));
    if (sweep) {
      const { seconds, words } = sweepSeconds(sweep, s, d, mode);
      sweepTime.textContent = `, ${words}: ${roughDuration(seconds)} in all`;
    }
  }).catch((err) => replace(deviceSlot, deviceCard(null, s, err.message, mode)));

  return {
    valid: () => vgg !== undefined && !weightsUnusable(vgg),
    busy: () => vgg === undefined,
    why: () => (vgg === undefined ? 'Checking the VGG-19 weights…' : 'The VGG-19 weights cannot be had: change them in Settings.'),
    async submit() {
      errorBox.replaceChildren();
      // The folder as scanned (absolute): what the user was shown, whatever the trainer's working folder.
      const folder = state.scan?.path === state.dataPath.trim() && state.scan.result.folder ? state.scan.result.folder : state.dataPath.trim();
      const config = toConfig({ mode, dataPath: state.dataMode === 'sample' ? 'sample' : folder, texture: state.texture, settings: s });
      try {
        if (sweep) {
          const { sweep: made, runs } = await api.startSweep(config, sweep);
          runs.forEach(upsertRun);
          navigate(`/sweeps/${encodeURIComponent(made.id)}`);
          return true;
        }
        const { run } = await api.createRun(config);
        upsertRun(run);
        navigate(`/runs/${encodeURIComponent(run.id)}`);
        return true;
      } catch (err) {
        replace(errorBox, h('div', { class: 'callout callout-error', role: 'alert', id: 'start-error' }, icon('alert'),
          h('div', {}, h('strong', {}, 'The run could not start. '), h('span', { class: 'server-message' }, err.message))));
        errorBox.scrollIntoView({ block: 'nearest' });
        return false;
      }
    },
  };
}
