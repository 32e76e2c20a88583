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
    const { estimateSeconds, CPU_SECONDS_256_2_CORES } = await load();
    const s = { iterations: 100, batch_size: 4, image_size: 256 };
    assert.strictEqual(estimateSeconds('cpu', s, 2), 400 * CPU_SECONDS_256_2_CORES);
    assert.strictEqual(estimateSeconds('cpu', { ...s, image_size: 128 }, 2), 100 * CPU_SECONDS_256_2_CORES);
    assert.ok(Math.abs(estimateSeconds('cpu', s, 8) - 200 * CPU_SECONDS_256_2_CORES) < 1e-9); // 4x the cores: 2x faster
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
