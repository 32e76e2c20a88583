'use strict';
// A run from start to finish through the UI, on a generated photo folder (random VGG
// weights, 32 px, the CPU): the wizard, the live dashboard (the curve gains points, a
// preview appears), a reload and a dropped connection that keep the curve, a second tab,
// Stop and the downloads (zip-format torch files), stylize, and the done and failed states.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');
const execFile = promisify(require('node:child_process').execFile);
const { ROOT, assertNoOverflow, download, newPage, shot, studio, until, wizardSettings } = require('./helpers');

const points = (page) => page.locator('.chart-card').getAttribute('data-points').then(Number);
// Both counts in one read: the chart keeps growing between two separate reads.
const pointsAndLast = (page) => page.locator('.chart-card').evaluate((el) =>
  [Number(el.dataset.points), Number(el.dataset.lastIteration)]);
const runState = (page) => page.locator('#run-state .badge').getAttribute('data-state').catch(() => null);

// The project's Python (torch, PIL), one thread as the worker's: `code` prints one JSON line last.
async function python(code, ...args) {
  const { stdout } = await execFile(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', code, ...args],
    { cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1' }, timeout: 120000 });
  return JSON.parse(stdout.trim().split('\n').pop());
}

// A downloaded model against a downloaded checkpoint: the same weights, both records complete.
const COMPARE_WEIGHTS = `
import json, sys, torch
load = lambda p: torch.load(p, map_location='cpu', weights_only=False)
model, ckpt = load(sys.argv[1]), load(sys.argv[2])
a, b = model['state_dict'], ckpt['state_dict']
print(json.dumps({
    'model_keys': sorted(model), 'format': model.get('format'), 'mode': model.get('mode'),
    'model_iteration': model['iteration'], 'checkpoint_iteration': ckpt['iteration'],
    'tensors': len(a), 'same_names': sorted(a) == sorted(b),
    'different': [k for k in a if k in b and not torch.equal(a[k], b[k])],
    'resumable': all(k in ckpt for k in ('optimizer', 'scheduler', 'rng', 'config')),
}))`;

// Two pictures decoded: their sizes and how far apart their pixels are (0..255).
const COMPARE_PIXELS = `
import json, sys
import numpy as np
from PIL import Image
a, b = (np.asarray(Image.open(p).convert('RGB'), dtype=np.int16) for p in sys.argv[1:3])
same = a.shape == b.shape
print(json.dumps({'sizes': [a.shape[:2], b.shape[:2]],
                  'max': int(np.abs(a - b).max()) if same else None,
                  'mean': float(np.abs(a - b).mean()) if same else None}))`;


test('train through the UI: live curve, previews, reload, reconnect, stop, downloads, stylize', { timeout: 240000 }, async (t) => {
  const { tmp, data, server, browser, url } = await studio(t, 'tn-train-');
  const page = await newPage(browser);
  let runId = null;

  await t.test('the wizard starts a run and opens its dashboard', async () => {
    // 5000 iterations: stopped long before, on the CPU, where it cannot end first.
    await wizardSettings(page, url, data, { image_size: 32, style_size: 32, batch_size: 2, iterations: 5000, preview_every: 4, checkpoint_every: 1000, workers: 0 });
    await page.locator('#wizard-next').click();
    await page.locator('.summary').waitFor();
    assert.match(await page.locator('.summary').textContent(), /Random VGG weights/);
    await page.locator('#wizard-next').click();
    await page.waitForURL(/#\/runs\/[^/]+$/);
    runId = decodeURIComponent(page.url().split('#/runs/')[1]);
    assert.match(runId, /stained_glass/);
  });

  await t.test('the curve gains points while training, and a preview appears', async () => {
    await until(async () => (await points(page)) >= 3, { timeout: 90000, what: 'the first iterations' });
    const before = await points(page);
    await until(async () => (await points(page)) > before + 2, { timeout: 30000, what: 'more iterations' });
    assert.strictEqual(await runState(page), 'running');
    await page.locator('#preview-image').waitFor();
    await until(async () => Number(await page.locator('.preview-card').getAttribute('data-previews')) >= 2,
      { timeout: 30000, what: 'two previews' });
    await page.locator('#preview-photos').waitFor();
    assert.match(await page.locator('#stat-speed').textContent(), /^\d+(\.\d+)? it\/s$/); // a rate, not the placeholder
    // The curve is drawn (uPlot's canvas) with a legend.
    await page.locator('#loss-chart canvas').waitFor();
    await shot(page, 'dashboard-running');
  });

  await t.test('a reload keeps the curve: the history comes with the subscription', async () => {
    const before = await points(page);
    await page.reload();
    await until(async () => (await points(page)) >= before, { timeout: 15000, what: 'the history after a reload' });
    // One point per iteration, none twice.
    await until(async () => { const [count, last] = await pointsAndLast(page); return count === last; }, { timeout: 5000, what: 'points = iterations' });
  });

  await t.test('a dropped connection resubscribes from the last seq: no gap, no duplicate', async () => {
    const before = await points(page);
    await page.evaluate(async () => {
      const { rawSocket } = await import('/js/socket.js');
      rawSocket().io.engine.close(); // the transport drops; socket.io reconnects by itself
    });
    await until(async () => (await points(page)) > before + 2, { timeout: 30000, what: 'events after the reconnect' });
    const [count, last] = await pointsAndLast(page);
    assert.strictEqual(count, last);
  });

  // Two more runs wait in the queue behind it (one run at a time on the CPU): one that fails
  // at start (no such VGG weights file) and a short one that finishes.
  let failed = null;
  let done = null;
  await t.test('runs started meanwhile are queued', async () => {
    const post = (config) => fetch(`${url}/api/runs`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ config }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const base = { data_dir: data, image_size: 32, style_size: 32, batch_size: 2, workers: 0, preview_every: 3, checkpoint_every: 4 };
    failed = await post({ ...base, texture: 'craquelure', iterations: 6, vgg_weights: path.join(tmp, 'missing-vgg19.pth') });
    assert.strictEqual(failed.status, 201, JSON.stringify(failed.body));
    done = await post({ ...base, texture: 'truchet_weave', iterations: 8, vgg_weights: 'random' });
    assert.strictEqual(done.status, 201, JSON.stringify(done.body));
    const view = await newPage(browser);
    await view.goto(`${url}/#/runs/${encodeURIComponent(done.body.run.id)}`);
    await view.locator('#queued-note', { hasText: '#2 in line' }).waitFor();
    assert.strictEqual(await runState(view), 'queued');
    assert.match(await view.locator('#stop-run').textContent(), /Cancel/);
    await shot(view, 'dashboard-queued');
    assert.deepStrictEqual(view.errors, []);
    await view.close();
  });

  await t.test('a second tab shows the same run, and the runs list shows it live', async () => {
    const second = await newPage(browser);
    await second.goto(`${url}/#/runs/${encodeURIComponent(runId)}`);
    await until(async () => (await points(second)) >= 3, { timeout: 15000, what: 'the second tab\'s curve' });
    assert.strictEqual(await runState(second), 'running');
    assert.deepStrictEqual(second.errors, []);
    await second.goto(`${url}/#/`);
    const card = second.locator(`.run-card[data-run="${runId}"]`);
    await card.waitFor();
    assert.strictEqual(await card.getAttribute('data-state'), 'running');
    assert.strictEqual(await second.locator('.run-card[data-state="queued"]').count(), 2);
    await second.locator(`.run-card[data-run="${runId}"] .run-preview[src*="previews/iter_"]`).waitFor({ timeout: 15000 });
    await shot(second, 'runs-list-running');
    // Narrow window: the dashboard while running.
    await second.setViewportSize({ width: 400, height: 800 });
    await second.goto(`${url}/#/runs/${encodeURIComponent(runId)}`);
    await until(async () => (await points(second)) >= 3, { timeout: 15000, what: 'the narrow dashboard' });
    await shot(second, 'narrow-dashboard-running');
    await assertNoOverflow(second);
    assert.deepStrictEqual(second.errors, []);
    await second.close();
  });

  await t.test('Stop (confirmed) leaves a checkpoint and a model: the downloads are those files, the model the checkpoint\'s weights', async () => {
    await page.locator('#stop-run').click();
    await page.locator('dialog[open]').waitFor();
    await shot(page, 'dashboard-stop-confirm', { fullPage: false });
    await page.locator('dialog[open] button', { hasText: 'Stop training' }).click();
    await until(async () => (await runState(page)) === 'stopped', { timeout: 60000, what: 'the stopped state' });
    const row = page.locator('#checkpoints .ckpt:not(.ckpt-model)').first();
    await row.waitFor();
    const ckpt = await download(page, row.getByRole('link', { name: /Download/ }));
    assert.match(ckpt.name, /iter_\d+\.pth$/);
    const model = await download(page, page.locator('#download-model'));
    assert.match(model.name, /model\.pth$/);
    // The downloads are the run's files, byte for byte.
    const runDir = path.join(tmp, 'runs', runId);
    const ckptFile = path.join(runDir, 'checkpoints', ckpt.name.match(/iter_\d+\.pth$/)[0]);
    assert.ok(ckpt.bytes.equals(fs.readFileSync(ckptFile)), `the checkpoint download is not ${ckptFile}`);
    assert.ok(model.bytes.equals(fs.readFileSync(path.join(runDir, 'model.pth'))), 'the model download is not model.pth');
    // Loaded with torch: the model holds the weights of the checkpoint written at the stop (the
    // only one: every 1000 iterations), and the checkpoint all a resume needs.
    const saved = path.join(tmp, 'downloads');
    fs.mkdirSync(saved, { recursive: true });
    fs.writeFileSync(path.join(saved, 'model.pth'), model.bytes);
    fs.writeFileSync(path.join(saved, 'checkpoint.pth'), ckpt.bytes);
    const w = await python(COMPARE_WEIGHTS, path.join(saved, 'model.pth'), path.join(saved, 'checkpoint.pth'));
    assert.deepStrictEqual(w.model_keys, ['format', 'generator', 'iteration', 'mode', 'state_dict', 'texture', 'train', 'version']);
    assert.strictEqual(w.format, 'tn-studio-generator');
    assert.strictEqual(w.mode, 'stylize');
    const stoppedAt = Number(ckpt.name.match(/iter_(\d+)\.pth$/)[1]);
    assert.ok(stoppedAt >= 3, `stopped at ${stoppedAt}`);
    assert.strictEqual(w.checkpoint_iteration, stoppedAt);
    assert.strictEqual(w.model_iteration, stoppedAt);
    assert.ok(w.tensors > 10, `${w.tensors} tensors`);
    assert.ok(w.same_names, 'the model and the checkpoint name different tensors');
    assert.deepStrictEqual(w.different, [], 'the model\'s weights differ from the checkpoint\'s');
    assert.ok(w.resumable, 'the checkpoint lacks the optimizer, scheduler, RNG or config');
    assert.strictEqual(await page.locator('#stop-run').count(), 0);
    await shot(page, 'dashboard-stopped');
  });

  await t.test('stylize a photo with the stopped run\'s model', async (st) => {
    await page.locator('#stylize-file').setInputFiles(path.join(data, 'photo_04.png'));
    await page.getByLabel('Style strength (noise factor)').fill('2.5');
    await page.locator('#stylize-go').click();
    await page.locator('#stylize-output').waitFor({ timeout: 60000 });
    const natural = await page.locator('#stylize-output').evaluate((img) => img.complete && img.naturalWidth);
    assert.ok(natural > 0);
    assert.match(await page.locator('#stylize-download').getAttribute('download'), /noise2\.5\.png$/);
    // The picture shown is this photo through the chosen network at noise 2.5 and seed 0: the
    // command line renders the same (the same network file, photo, noise and seed), pixel for pixel
    // but for rounding. At noise 1 (the default) it would differ, and so would the plain photo.
    const network = await page.locator('select[id^="stylize-model-"]').inputValue(); // '': the model
    const runDir = path.join(tmp, 'runs', runId);
    const modelFile = network ? path.join(runDir, 'checkpoints', path.basename(network)) : path.join(runDir, 'model.pth');
    assert.strictEqual(await page.locator('#stylize-download').getAttribute('href'), await page.locator('#stylize-output').getAttribute('src'));
    const shown = await download(page, page.locator('#stylize-download')); // the picture's blob
    fs.mkdirSync(path.join(tmp, 'downloads'), { recursive: true });
    const shownFile = path.join(tmp, 'downloads', 'shown.png');
    fs.writeFileSync(shownFile, shown.bytes);
    const photo = path.join(data, 'photo_04.png');
    const reference = path.join(tmp, 'downloads', 'reference.png');
    await execFile(path.join(ROOT, '.venv', 'bin', 'python'), ['-m', 'worker.stylize', '--model', modelFile,
      '--input', photo, '--output', reference, '--noise', '2.5', '--seed', '0'],
    { cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1' }, timeout: 120000 });
    const d = await python(COMPARE_PIXELS, shownFile, reference);
    st.diagnostic(`shown vs the command line's render: ${JSON.stringify(d)}`);
    assert.deepStrictEqual(d.sizes[0], d.sizes[1], 'the picture shown is not the size the network renders');
    assert.ok(d.max <= 2, `the picture shown differs from the command line's render by up to ${d.max}/255 (mean ${d.mean})`);
    const vsPhoto = await python(COMPARE_PIXELS, shownFile, photo);
    st.diagnostic(`shown vs the photo: ${JSON.stringify(vsPhoto)}`);
    assert.ok(vsPhoto.mean === null || vsPhoto.mean >= 2, `the picture shown is the photo (mean difference ${vsPhoto.mean})`);
    await shot(page, 'dashboard-stylized');
  });

  await t.test('the page logged no errors', () => {
    assert.deepStrictEqual(page.errors, []);
  });

  await t.test('a finished run, and a failed one that says why', async () => {
    const view = await newPage(browser);
    await view.goto(`${url}/#/runs/${encodeURIComponent(failed.body.run.id)}`);
    await view.locator('#failure').waitFor({ timeout: 60000 });
    assert.match(await view.locator('#failure-message').textContent(), /--vgg_weights '\S*missing-vgg19\.pth' is not a file/);
    await until(async () => (await view.locator('#stderr-tail').count()) > 0, { timeout: 15000, what: 'the stderr tail' });
    await shot(view, 'dashboard-failed');

    // Run again: the wizard opens at the settings, the VGG file to fix, with its photos, texture
    // and settings.
    await view.locator('#run-again').click();
    await view.waitForURL(/#\/new$/);
    await view.locator('#vgg-status[data-state="file-bad"]').waitFor({ timeout: 30000 });
    assert.strictEqual(await view.locator('form.wizard').getAttribute('data-step'), '3');
    assert.strictEqual(await view.locator('input[name="iterations"]').inputValue(), '6');
    assert.strictEqual(await view.locator('select[name="vgg_weights"]').inputValue(), 'path');
    assert.match(await view.getByLabel('VGG-19 weights file').inputValue(), /missing-vgg19\.pth$/);
    await view.locator('#wizard-back').click();
    assert.strictEqual(await view.locator('input[name="texture"]:checked').getAttribute('value'), 'craquelure');

    await view.goto(`${url}/#/runs/${encodeURIComponent(done.body.run.id)}`);
    await until(async () => (await runState(view)) === 'done', { timeout: 90000, what: 'the done state' });
    await view.locator('#download-model').waitFor();
    // The state can come (run_state) before the history is drawn.
    await until(async () => (await points(view)) === 8, { timeout: 15000, what: 'all 8 points' });
    await view.locator('#progress-text', { hasText: 'Iteration 8 of 8' }).waitFor();
    await view.locator('#preview-image').waitFor();
    // The held-out curve: the untrained network, then each checkpoint (4 and 8); the loss units said.
    await until(async () => (await view.locator('.chart-card').getAttribute('data-evals')) === '3', { timeout: 15000, what: '3 held-out points' });
    assert.match(await view.locator('#balance-note').textContent(), /^Style scale \S+ \(calibrated for balance 2\): the style term started at 2× the content term\./);
    await shot(view, 'dashboard-done');

    // The x axis by time, linear scale, the preview slider moved back.
    await view.getByText('Time', { exact: true }).click();
    await view.getByText('Linear', { exact: true }).click();
    const slider = view.locator('.preview-card input[type="range"]');
    await slider.focus();
    await view.keyboard.press('Home');
    assert.match(await view.locator('#preview-iteration').textContent(), /^3$/);
    await shot(view, 'dashboard-done-time-linear');

    await view.goto(`${url}/#/`);
    await view.locator('.run-card[data-state="failed"]').waitFor();
    await view.locator('.run-card[data-state="done"]').waitFor();
    await view.locator('.run-card[data-state="stopped"]').waitFor();
    await shot(view, 'runs-list');
    await view.setViewportSize({ width: 400, height: 800 });
    await shot(view, 'narrow-runs-list');
    // Two runs ticked: compared side by side.
    await view.setViewportSize({ width: 1280, height: 800 });
    const ticked = [];
    for (const state of ['done', 'stopped']) {
      const card = view.locator(`.run-card[data-state="${state}"]`).first();
      ticked.push(await card.getAttribute('data-run'));
      await card.locator('.pick-input').check();
    }
    assert.strictEqual(await view.locator('#compare-selected').textContent(), 'Compare 2 runs');
    await view.locator('#compare-selected').click();
    await view.waitForURL(/#\/compare\//);
    await until(async () => (await view.locator('#compare-grid .cmp-row[data-run]').count()) === 2, { timeout: 15000, what: 'two rows' });
    assert.deepStrictEqual(await view.locator('#compare-grid .cmp-row[data-run]').evaluateAll((els) => els.map((e) => e.dataset.run)), ticked);
    assert.deepStrictEqual(view.errors, []);
    await view.close();
  });

  await t.test('Continue training: a new run from an earlier checkpoint, starting with its curve', async () => {
    const view = await newPage(browser);
    await view.goto(`${url}/#/runs/${encodeURIComponent(done.body.run.id)}`);
    await view.locator('#continue-run').click();
    await view.locator('#continue-dialog[open]').waitFor();
    await view.selectOption('#continue-from', '4');
    assert.strictEqual(await view.locator('#continue-iterations').inputValue(), '8'); // stopped early: to its end
    await view.locator('#continue-iterations').fill('3');
    await view.locator('#continue-start').click();
    await view.locator('#continue-error', { hasText: 'above 4' }).waitFor();
    await view.locator('#continue-iterations').fill('11');
    await shot(view, 'dashboard-continue', { fullPage: false });
    await view.locator('#continue-start').click();
    await view.waitForURL((u) => !u.hash.includes(done.body.run.id));
    await view.locator('#resumed-from', { hasText: 'iteration 4' }).waitFor();
    await until(async () => (await runState(view)) === 'done', { timeout: 90000, what: 'the continued run to finish' });
    await until(async () => { const [count, last] = await pointsAndLast(view); return count === 11 && last === 11; },
      { timeout: 15000, what: '11 points, from iteration 1' });
    await shot(view, 'dashboard-continued');
    await view.setViewportSize({ width: 400, height: 800 });
    await shot(view, 'narrow-dashboard-done', { fullPage: false });
    await assertNoOverflow(view);
    await view.setViewportSize({ width: 1280, height: 800 });
    const continued = decodeURIComponent(view.url().split('#/runs/')[1]);
    await view.locator('#resumed-from').click();
    await view.waitForURL((u) => u.hash.includes(done.body.run.id));
    await until(async () => (await points(view)) === 8, { timeout: 15000, what: 'the source run, unchanged' });

    // Delete the continued run: confirmed, it leaves the runs list, in this tab and in another.
    const other = await newPage(browser);
    await other.goto(`${url}/#/`);
    await other.locator(`.run-card[data-run="${continued}"]`).waitFor();
    await view.goto(`${url}/#/runs/${encodeURIComponent(continued)}`);
    await view.locator('#delete-run').click();
    await view.locator('dialog[open] button', { hasText: 'Delete run' }).click();
    await view.waitForURL((u) => u.hash === '#/');
    await view.locator(`.run-card[data-run="${done.body.run.id}"]`).waitFor();
    assert.strictEqual(await view.locator(`.run-card[data-run="${continued}"]`).count(), 0);
    await other.locator(`.run-card[data-run="${continued}"]`).waitFor({ state: 'detached' });
    assert.deepStrictEqual(view.errors, []);
    assert.deepStrictEqual(other.errors, []);
    await other.close();
    await view.close();
  });
});
