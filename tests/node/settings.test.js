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
    // BENCHMARKS.md, training step: 256 px, batch 4 on 2 cores, 1.4-1.9 img/s (0.5-0.7 s an image).
    const s = { iterations: 100, batch_size: 4, image_size: 256 };
    const seconds = estimateSeconds('cpu', s, 2);
    assert.ok(seconds >= 400 * 0.5 && seconds <= 400 * 0.7, seconds);
    assert.ok(Math.abs(estimateSeconds('cpu', { ...s, image_size: 128 }, 2) - seconds / 4) < 1e-9);
    assert.ok(Math.abs(estimateSeconds('cpu', s, 8) - seconds / 2) < 1e-9); // 4x the cores: 2x faster
    assert.ok(estimateSeconds('cuda', s, 2) < estimateSeconds('cpu', s, 64) / 10);
  });
});

