'use strict';
// The wizard's settings logic (static/js/settings.js, a browser module without DOM use), here
// in Node (static/js/package.json marks those files as ES modules): the time estimate shown beside
// the device.
const { describe, it } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const load = () => import(pathToFileURL(path.join(__dirname, '../../static/js/settings.js')).href);

describe('time estimate', () => {
  it('is the measured CPU figure at 256 px on 2 cores, scaled by pixels, batch, iterations and cores', async () => {
    const { estimateSeconds } = await load();
    // BENCHMARKS.md, training step: 256 px, batch 4 on 2 cores, 1.4-1.9 img/s (0.5-0.7 s an image).
    const s = { iterations: 100, batch_size: 4, image_size: 256 };
    const seconds = estimateSeconds('cpu', s, 2);
    assert.ok(seconds >= 400 * 0.5 && seconds <= 400 * 0.7, seconds);
    assert.ok(Math.abs(estimateSeconds('cpu', { ...s, image_size: 128 }, 2) - seconds / 4) < 1e-9);
    assert.ok(Math.abs(estimateSeconds('cpu', s, 8) - seconds / 2) < 1e-9); // 4x the cores: 2x faster
    assert.ok(estimateSeconds('cuda', s, 2) < estimateSeconds('cpu', s, 64) / 10);
  });
});

describe('defaults', () => {
  it('are the trainer\'s own (worker/train.py DEFAULTS), for every setting the wizard sends', async () => {
    const { execFileSync } = require('node:child_process');
    const repo = path.join(__dirname, '../..');
    const trainer = JSON.parse(execFileSync(path.join(repo, '.venv/bin/python'), ['-c',
      'import json; from worker.train import DEFAULTS; print(json.dumps(DEFAULTS))'], { cwd: repo }));
    const { DEFAULTS } = await load();
    for (const [key, value] of Object.entries(DEFAULTS)) {
      assert.deepStrictEqual(value, trainer[key], key);
    }
  });
});
