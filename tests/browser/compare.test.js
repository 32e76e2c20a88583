'use strict';
// Choosing by eye: a sweep of three tiny runs started from the wizard, its compare grid (a row a
// run) live and finished, the shared iteration slider, a cell opened large, "Use this one" (the
// downloaded model is then the chosen checkpoint's network), the ONNX download, the noise-factor
// strip and a video through the network.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ROOT, SHOTS, assertNoOverflow, download, newPage, shot, studio, until, wizardSettings } = require('./helpers');

const rows = (page) => page.locator('#compare-grid .cmp-row[data-run]');
const rowStates = (page) => rows(page).evaluateAll((els) => els.map((el) => el.querySelector('.badge')?.dataset.state));
const firstCells = (page) => rows(page).evaluateAll((els) => els.map((el) => el.querySelector('.cmp-open img')?.getAttribute('src') || null));


test('a sweep from the wizard, compared side by side; use a checkpoint; the noise strip', { timeout: 420000 }, async (t) => {
  const { tmp, data, browser, url } = await studio(t, 'tn-compare-');
  const page = await newPage(browser);
  let sweepUrl = null;

  await t.test('the wizard starts a sweep of three runs and opens its comparison', async () => {
    await wizardSettings(page, url, data, { image_size: 32, style_size: 32, batch_size: 2, iterations: 8, preview_every: 2, checkpoint_every: 2, workers: 0 });
    const set = async (name, value) => page.locator(`input[name="${name}"]`).fill(String(value));
    await page.selectOption('select[name="sweep_setting"]', 'content_weight');
    assert.strictEqual(await page.locator('input[name="sweep_values"]').inputValue(), '250, 1000, 4000'); // the suggested grid
    await set('sweep_values', '250, 1000, 1000');
    assert.match(await page.locator('#sweep .field-error').textContent(), /Each value once/);
    assert.ok(await page.locator('#wizard-next').isDisabled());
    await set('sweep_values', '250, 1000, 4000');
    await set('sweep_name', 'style or photo');
    await page.locator('#sweep').scrollIntoViewIfNeeded();
    await page.locator('#sweep').screenshot({ path: path.join(SHOTS, 'wizard-3-sweep.png') });
    await page.locator('#wizard-next').click();
    assert.match(await page.locator('#review-sweep').textContent(), /Content weight = 250, 1000, 4000 · 3 runs/);
    await page.locator('#wizard-next').click();
    await page.waitForURL(/#\/sweeps\/[^/]+$/);
    sweepUrl = page.url();
    assert.strictEqual(await page.locator('h1').textContent(), 'style or photo');
    await until(async () => (await rows(page).count()) === 3, { timeout: 15000, what: 'three rows' });
    const labels = await rows(page).locator('.cmp-label strong').allTextContents();
    assert.deepStrictEqual(labels, ['Content weight 250', 'Content weight 1000', 'Content weight 4000']);
  });

  await t.test('the grid fills in live while the sweep trains', async () => {
    await until(async () => (await firstCells(page)).filter(Boolean).length >= 1, { timeout: 120000, what: 'a first preview in the grid' });
    await shot(page, 'compare-running');
    await until(async () => (await rowStates(page)).every((s) => s === 'done'), { timeout: 240000, what: 'all three runs done' });
    await until(async () => (await firstCells(page)).every((src) => src && src.includes('iter_0000008')), { timeout: 15000, what: 'the last previews' });
    assert.strictEqual(Number(await page.locator('#compare-chart-title').locator('xpath=../..').getAttribute('data-points')), 24);
    await shot(page, 'compare-done');
  });

  await t.test('the shared slider moves every row to the chosen iteration', async () => {
    const latest = await firstCells(page);
    await page.locator('#compare-slider').fill('0'); // iteration 2
    await until(async () => (await firstCells(page)).every((src) => src.includes('iter_0000002')), { timeout: 5000, what: 'iteration 2 in every row' });
    const early = await firstCells(page);
    assert.ok(early.every((src, i) => src !== latest[i]));
    assert.strictEqual(await page.locator('#compare-iteration').textContent(), '2');
    await page.locator('#compare-slider').fill('1'); // iteration 4
    await until(async () => (await firstCells(page)).every((src) => src.includes('iter_0000004')), { timeout: 5000, what: 'iteration 4' });
  });

  let runId = null;
  await t.test('a cell opens large; "Use this one" makes its checkpoint the downloaded model; ONNX and PT2 exports', async () => {
    const cell = rows(page).nth(1).locator('.cmp-open').first();
    runId = await cell.getAttribute('data-run');
    await cell.click();
    const dialog = page.locator('#cell-dialog');
    await dialog.waitFor();
    assert.match(await dialog.locator('.cell-head').textContent(), /Content weight 1000.*Iteration 4/s);
    assert.strictEqual(await dialog.locator('.cell-figures img').count(), 3); // photo, stylized, texture
    // Live with that checkpoint's network (tests/browser/live.test.js runs it).
    assert.strictEqual(await dialog.locator('#cell-live').getAttribute('href'), `#/runs/${encodeURIComponent(runId)}/live/4`);
    await dialog.locator('#use-checkpoint').click();
    await until(async () => /iteration 4; the previous model is kept as model-iter_0000008\.pth/.test(await page.locator('#use-status').textContent()),
      { timeout: 30000, what: 'the model replaced' });
    await shot(page, 'compare-cell', { fullPage: false });

    // The model a user downloads from the dashboard is now the network of checkpoint 4.
    const view = await newPage(browser);
    await view.goto(`${url}/#/runs/${encodeURIComponent(runId)}`);
    await view.locator('#download-model').waitFor();
    assert.match(await view.locator('.ckpt-model').textContent(), /Final model \(iteration 4\)/);
    const model = path.join(tmp, 'downloaded-model.pth');
    fs.writeFileSync(model, (await download(view, view.locator('#download-model'))).bytes);
    // The same model as ONNX, which onnxruntime loads and runs at a size of its choosing.
    const onnx = path.join(tmp, 'downloaded-model.onnx');
    fs.writeFileSync(onnx, (await download(view, view.locator('#export-onnx'))).bytes);
    const ran = execFileSync(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', `
import sys, numpy as np, onnxruntime
s = onnxruntime.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])
x = np.random.rand(1, 3, 45, 61).astype(np.float32)
out = s.run(None, {'image': x, 'noise': np.random.rand(1, 3, 45, 61).astype(np.float32), 'noise_factor': np.array(1, np.float32)})[0]
print(out.shape, bool(np.isfinite(out).all()))`, onnx], { cwd: ROOT }).toString().trim();
    assert.strictEqual(ran, '(1, 3, 45, 61) True');
    // And as a torch.export program (the row's PT2 link), which computes what that checkpoint does.
    // Not download(): its 30 s default is less than a pt2 export takes (a minute of CPU, the trace).
    const pt2 = path.join(tmp, 'downloaded-model.pt2');
    const [pt2File] = await Promise.all([view.waitForEvent('download', { timeout: 600000 }), view.locator('#export-pt2').click()]);
    assert.strictEqual(pt2File.suggestedFilename(), `${runId}-model.pt2`);
    fs.copyFileSync(await pt2File.path(), pt2);
    const pt2Ran = execFileSync(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', `
import sys, torch
from models.portable import branch_noise
from worker.checkpoint import load_generator
g = load_generator(sys.argv[2])
x, z = torch.rand(1, 3, 45, 61), torch.rand(1, 3, 45, 61)
with torch.no_grad():
    out = torch.export.load(sys.argv[1]).module()(x, z, torch.tensor(1.0))
    print(tuple(out.shape), float((out - g(x, noise=1.0, noises=branch_noise(g, z))).abs().max()) < 1e-3)`,
    pt2, path.join(tmp, 'runs', runId, 'checkpoints', 'iter_0000004.pth')], { cwd: ROOT }).toString().trim();
    assert.strictEqual(pt2Ran, '(1, 3, 45, 61) True');
    await view.close();
    const same = execFileSync(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', `
import sys, torch
from worker.checkpoint import load_record
model, chosen, last = (load_record(p) for p in sys.argv[1:])
equal = lambda a, b: all(torch.equal(a['state_dict'][k], b['state_dict'][k]) for k in a['state_dict'])
print(model['iteration'], equal(model, chosen), equal(model, last))`, model,
      path.join(tmp, 'runs', runId, 'checkpoints', 'iter_0000004.pth'),
      path.join(tmp, 'runs', runId, 'checkpoints', 'iter_0000008.pth')], { cwd: ROOT }).toString().trim();
    assert.strictEqual(same, '4 True False');
  });

  await t.test('the noise strip shows the photo at five noise factors; one renders at full size', async () => {
    const dialog = page.locator('#cell-dialog');
    await dialog.locator('#stylize-file').setInputFiles(path.join(data, 'photo_04.png'));
    await dialog.locator('#noise-strip-go').click();
    await until(async () => (await dialog.locator('#noise-strip img').count()) === 5, { timeout: 60000, what: 'five strip images' });
    assert.deepStrictEqual(await dialog.locator('#noise-strip .strip-pick').evaluateAll((els) => els.map((e) => e.dataset.noise)), ['0', '0.5', '1', '2', '4']);
    const pixels = await dialog.locator('#noise-strip img').evaluateAll((imgs) => Promise.all(imgs.map(async (img) => {
      await img.decode();
      const c = document.createElement('canvas');
      [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
      c.getContext('2d').drawImage(img, 0, 0);
      return c.toDataURL();
    })));
    assert.strictEqual(new Set(pixels).size, 5, 'five different images');
    await dialog.locator('#noise-strip .strip-pick[data-noise="2"]').click();
    await dialog.locator('#stylize-output').waitFor({ timeout: 60000 });
    assert.match(await dialog.locator('#stylize-download').getAttribute('download'), /noise2\.png$/);
    await shot(page, 'compare-noise-strip', { fullPage: false });
  });

  await t.test('a video through the same network: progress, then the stylized clip with every frame', async () => {
    const dialog = page.locator('#cell-dialog');
    const clip = path.join(tmp, 'clip.mp4');
    const python = path.join(ROOT, '.venv', 'bin', 'python');
    execFileSync(python, ['-c', 'import sys; from pathlib import Path; sys.path.insert(0, "tests/python"); '
      + 'from test_video import make_clip; make_clip(Path(sys.argv[1]), count=12)', clip], { cwd: ROOT });
    await dialog.locator('#stylize-file').setInputFiles(clip);
    assert.strictEqual((await dialog.locator('#stylize-go').textContent()).trim(), 'Stylize video');
    assert.ok(await dialog.locator('#noise-strip-go').isDisabled(), 'the noise strip is for photos');
    await dialog.locator('#stylize-go').click();
    await dialog.locator('#stylize-video').waitFor({ timeout: 120000 });
    assert.match(await dialog.locator('#stylize-download').getAttribute('download'), /^clip-stylized\.mp4$/);
    const out = path.join(tmp, 'stylized.mp4');
    fs.writeFileSync(out, (await download(page, dialog.locator('#stylize-download'))).bytes);
    const frames = execFileSync(python, ['-c', 'import sys; from worker.video import frames; f = list(frames(sys.argv[1])); '
      + 'print(len(f), *f[0].size)', out], { cwd: ROOT }).toString().trim();
    assert.strictEqual(frames, '12 72 48');
    await dialog.locator('#cell-close').click();
  });

  await t.test('the runs list shows the sweep as one card that opens its comparison', async () => {
    await page.goto(`${url}/#/`);
    const card = page.locator('.sweep-card');
    await card.waitFor();
    assert.strictEqual(await page.locator('.run-card').count(), 1);
    assert.strictEqual(await card.locator('.sweep-runs a').count(), 3); // each run's own dashboard
    await shot(page, 'runs-list-sweep');
    await card.locator('.run-link').click();
    await page.waitForURL(sweepUrl);
    await until(async () => (await rows(page).count()) === 3, { timeout: 15000, what: 'the comparison again' });
  });

  await t.test('any runs compare side by side (#/compare/a,b), labelled by what differs', async () => {
    const ids = await rows(page).evaluateAll((els) => els.map((el) => el.dataset.run));
    await page.goto(`${url}/#/compare/${[ids[0], ids[2]].map(encodeURIComponent).join(',')}`);
    await until(async () => (await rows(page).count()) === 2, { timeout: 15000, what: 'two rows' });
    assert.deepStrictEqual(await rows(page).locator('.cmp-label strong').allTextContents(), ['Content weight 250', 'Content weight 4000']);
    assert.strictEqual(await page.locator('h1').textContent(), '2 runs side by side');
    await page.setViewportSize({ width: 400, height: 800 });
    // The chart follows the new width on its ResizeObserver's next call; the grid scrolls inside its card.
    await until(() => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      { timeout: 10000, what: 'the page to fit a 400 px window' });
    await assertNoOverflow(page);
    await shot(page, 'narrow-compare');
    assert.deepStrictEqual(page.errors, []);
  });
});
