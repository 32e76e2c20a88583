'use strict';
// The wizard's time estimate (static/js/settings.js) counts the previews and the held-out
// evaluations the settings ask for, besides the steps (issue 20: the quick preset took 28 s
// against "about 15 s"), and the quick presets checkpoint within their iterations.
const { describe, it } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { forBrowser } = require('../../app/protocol');

const browserModule = (name) => import(pathToFileURL(path.join(__dirname, `../../static/js/${name}`)).href);
const load = async () => {
  (await browserModule('protocol.js')).initProtocol(forBrowser);
  return browserModule('settings.js');
};

describe('the wizard estimate', () => {
  it('adds the previews, the evaluations (before the first step and at each checkpoint) and their first use', async () => {
    const { estimateSeconds, PREVIEW_IMAGES, EVAL_IMAGES, FIRST_USE_IMAGES } = await load();
    const steps = { iterations: 300, batch_size: 2, image_size: 64 };
    const device = { cpus: 2 };
    const bare = estimateSeconds('cpu', steps, device);
    const whole = estimateSeconds('cpu', { ...steps, preview_every: 100, checkpoint_every: 100 }, device);
    const images = 3 * PREVIEW_IMAGES + 4 * EVAL_IMAGES.stylize + FIRST_USE_IMAGES; // 3 previews, evaluations at 0, 100, 200, 300
    assert.ok(Math.abs(whole / bare - (600 + images) / 600) < 1e-9, `${whole} vs ${bare}`);
    // A last step off the schedule still previews and checkpoints.
    const odd = estimateSeconds('cpu', { ...steps, iterations: 250, preview_every: 100, checkpoint_every: 100 }, device);
    const oddBare = estimateSeconds('cpu', { ...steps, iterations: 250 }, device);
    assert.ok(Math.abs(odd / oddBare - (500 + 3 * PREVIEW_IMAGES + 4 * EVAL_IMAGES.stylize + FIRST_USE_IMAGES) / 500) < 1e-9);
  });

  it('quick presets checkpoint within their iterations: something to continue from', async () => {
    const { presets } = await load();
    for (const mode of ['stylize', 'synthesis']) {
      for (const p of presets(mode)) {
        assert.ok(p.values.checkpoint_every <= p.values.iterations, `${mode} ${p.id}`);
        assert.ok(!/Minutes on a laptop/.test(p.blurb), `${mode} ${p.id}: the words are the estimate's`);
      }
    }
  });
});
