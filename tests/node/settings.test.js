'use strict';
// The wizard's settings logic (static/js/settings.js, a browser module without DOM use), here
// in Node (static/js/package.json marks those files as ES modules): the time estimate shown beside
// the device.
const { describe, it } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const { forBrowser } = require('../../app/protocol');

const browserModule = (name) => import(pathToFileURL(path.join(__dirname, `../../static/js/${name}`)).href);
// As main.js does before any view: the protocol (settings, limits, states) first.
const load = async () => {
  (await browserModule('protocol.js')).initProtocol(forBrowser);
  return browserModule('settings.js');
};

describe('time estimate', () => {
  it('is the measured CPU figure at 256 px on 2 cores, scaled by pixels, batch, iterations and cores', async () => {
    const { estimateSeconds } = await load();
    // BENCHMARKS.md, training step: 256 px, batch 4 on 2 cores, fp32: 1.1 img/s (0.9 s an image).
    const s = { iterations: 100, batch_size: 4, image_size: 256 };
    const seconds = estimateSeconds('cpu', s, { cpus: 2 });
    assert.ok(seconds >= 400 * 0.8 && seconds <= 400 * 1.0, seconds);
    assert.ok(Math.abs(estimateSeconds('cpu', { ...s, image_size: 128 }, { cpus: 2 }) - seconds / 4) < 1e-9);
    assert.ok(Math.abs(estimateSeconds('cpu', s, { cpus: 8 }) - seconds / 2) < 1e-9); // 4x the cores: 2x faster
    assert.ok(estimateSeconds('cuda', s, { cpus: 2 }) < estimateSeconds('cpu', s, { cpus: 64 }) / 10);
    // A CPU with bf16 trains about twice as fast in Auto precision, not when fp32 is chosen.
    const bf16 = { cpus: 2, cpu_bf16: true };
    assert.ok(Math.abs(estimateSeconds('cpu', s, bf16) - seconds / 2) < 1e-9);
    assert.equal(estimateSeconds('cpu', { ...s, precision: 'fp32' }, bf16), seconds);
  });
});


describe('presets', () => {
  it('the standard preset is each mode\'s defaults, and says them: it has no values of its own to drift', async () => {
    const { matchingPreset, modeDefaults, presets } = await load();
    // The defaults straight from settings.json, not through settings.js.
    const plain = Object.fromEntries(Object.entries(forBrowser.settings).map(([key, spec]) => [key, spec.default]));
    for (const mode of ['stylize', 'synthesis']) {
      const d = { ...plain, ...forBrowser.mode_defaults[mode] };
      const standard = presets(mode).find((p) => p.id === 'standard');
      for (const [key, value] of Object.entries(standard.values)) assert.strictEqual(value, d[key], `${mode} ${key}`);
      assert.strictEqual(matchingPreset(modeDefaults(mode), mode), 'standard', mode);
      for (const said of [`${d.image_size} px`, `batch ${d.batch_size}`, `${d.iterations.toLocaleString('en-US')} iterations`]) {
        assert.ok(standard.blurb.includes(said), `${mode}: ${standard.blurb} / ${said}`);
      }
    }
  });

  it('every preset sets the same settings, and each preset but the standard one differs from the defaults', async () => {
    const { matchingPreset, modeDefaults, presets } = await load();
    for (const mode of ['stylize', 'synthesis']) {
      const [first, ...rest] = presets(mode);
      for (const p of rest) assert.deepStrictEqual(Object.keys(p.values), Object.keys(first.values), `${mode} ${p.id}`);
      for (const p of presets(mode)) assert.strictEqual(matchingPreset({ ...modeDefaults(mode), ...p.values }, mode), p.id, `${mode} ${p.id}`);
    }
  });
});

describe('the settings step\'s form', () => {
  it('shows every wizard setting the mode uses once, under settings.json\'s groups (the weights have their own section)', async () => {
    const { settingGroups, usedIn } = await load();
    for (const mode of ['stylize', 'synthesis']) {
      const shown = settingGroups(mode).flatMap((g) => g.keys);
      const wanted = Object.keys(forBrowser.settings)
        .filter((key) => forBrowser.settings[key].ui !== false && key !== 'vgg_weights' && usedIn(key, mode));
      assert.deepStrictEqual([...shown].sort(), [...wanted].sort(), mode);
      assert.strictEqual(new Set(shown).size, shown.length, mode);
    }
    assert.deepStrictEqual(settingGroups().map((g) => g.title), ['Images', 'Schedule', 'Losses and generator', 'Machine']);
  });

  it('names every choice, and says a synthesis run\'s words where they differ', async () => {
    const { settingWords } = await load();
    for (const [key, spec] of Object.entries(forBrowser.settings)) {
      if (spec.type !== 'choice' || spec.ui === false) continue;
      assert.deepStrictEqual(Object.keys(spec.choice_labels), spec.choices, key);
    }
    assert.deepStrictEqual(settingWords('batch_size', 'synthesis'), { ...settingWords('batch_size'), unit: 'samples',
      help: forBrowser.settings.batch_size.synthesis_words.help });
    assert.strictEqual(settingWords('image_size', 'synthesis').unit, 'px');
  });
});

describe('sweeps', () => {
  it('suggests a grid around the current value from settings.json, within the bounds', async () => {
    const { suggestSweep, sweepable } = await load();
    assert.deepStrictEqual(sweepable(), ['image_size', 'lr', 'balance', 'content_weight', 'noise', 'scales']);
    assert.deepStrictEqual(suggestSweep('content_weight', 1000), [250, 1000, 4000]);
    assert.deepStrictEqual(suggestSweep('balance', 2), [0.5, 2, 8]);
    assert.deepStrictEqual(suggestSweep('image_size', 32), [16, 32, 64]);
    assert.deepStrictEqual(suggestSweep('image_size', 16), [16, 32]); // 8 is below the minimum: once
    assert.deepStrictEqual(suggestSweep('scales', 5), [3, 4, 5]);
  });

  it('takes 2 to 6 distinct values, each checked by the setting\'s own rule', async () => {
    const { parseSweep } = await load();
    assert.deepStrictEqual(parseSweep('lr', '0.01, 0.03,0.1'), { values: [0.01, 0.03, 0.1] });
    assert.match(parseSweep('lr', '0.01').error, /2 to 6 values/);
    assert.match(parseSweep('lr', '0.1,0.2,0.3,0.4,0.5,0.6,0.7').error, /2 to 6 values/);
    assert.match(parseSweep('lr', '0.1, 0.1').error, /Each value once/);
    assert.match(parseSweep('scales', '2, 2.5').error, /whole number/);
    assert.match(parseSweep('lr', '0.1, 5').error, /At most 1/);
    assert.match(parseSweep('lr', '0.1, lots').error, /lots: Enter a number/);
  });
});

describe('texture synthesis in the wizard', () => {
  it('takes settings.json\'s synthesis defaults, keeps what the user changed across a switch of mode', async () => {
    const { defaults, modeDefaults, switchMode, matchingPreset } = await load();
    const synthesis = modeDefaults('synthesis');
    assert.deepStrictEqual(modeDefaults('stylize'), defaults());
    for (const [key, value] of Object.entries(forBrowser.mode_defaults.synthesis)) assert.strictEqual(synthesis[key], value, key);
    assert.strictEqual(matchingPreset(synthesis, 'synthesis'), 'standard', 'the standard synthesis preset is its defaults');
    const mine = { ...defaults(), balance: 5, image_size: 64 };
    const switched = switchMode(mine, 'stylize', 'synthesis');
    assert.deepStrictEqual([switched.balance, switched.image_size, switched.lr, switched.iterations], [5, 64, synthesis.lr, synthesis.iterations]);
    assert.deepStrictEqual(switchMode(switched, 'synthesis', 'stylize').lr, defaults().lr);
  });

  it('sends no photos and only the settings the mode uses; sweeps only those', async () => {
    const { modeDefaults, toConfig, sweepable } = await load();
    const config = toConfig({ mode: 'synthesis', dataPath: '/photos', texture: 'craquelure', settings: modeDefaults('synthesis') });
    assert.deepStrictEqual([config.mode, config.texture, 'data_dir' in config], ['synthesis', 'craquelure', false]);
    for (const key of ['content_weight', 'balance', 'noise']) assert.ok(!(key in config), key);
    assert.strictEqual(config.diversity, forBrowser.settings.diversity.default);
    const stylize = toConfig({ dataPath: '/photos', texture: 'craquelure', settings: modeDefaults('stylize') });
    assert.deepStrictEqual([stylize.data_dir, 'mode' in stylize, 'diversity' in stylize], ['/photos', false, false]);
    assert.deepStrictEqual(sweepable('synthesis'), ['image_size', 'lr', 'diversity', 'scales']);
  });

  it('estimates a 128 px synthesis step, batch 4, at about half a 256 px stylization step (measured: twice a photo of its size)', async () => {
    const { estimateSeconds } = await load();
    const stylize = estimateSeconds('cpu', { iterations: 100, batch_size: 4, image_size: 256 }, { cpus: 2 });
    const synthesis = estimateSeconds('cpu', { iterations: 100, batch_size: 4, image_size: 128 }, { cpus: 2 }, 'synthesis');
    assert.ok(Math.abs(synthesis / stylize - 0.5) < 0.05, synthesis / stylize);
  });
});
