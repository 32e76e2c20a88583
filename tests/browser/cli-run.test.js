'use strict';
// Runs trained from a terminal, as the README shows, into the runs folder the app serves: the
// runs list shows them (their texture from their own folder, "trained from the command line"),
// a finished one's dashboard has its curve, previews and checkpoints, and a live one is followed
// as it trains and stopped from the page.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, assertNoOverflow, encodePng, newPage, shot, studio, until } = require('./helpers');

const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const TINY = ['--image_size', '32', '--style_size', '32', '--batch_size', '2', '--vgg_weights', 'random',
  '--workers', '0', '--lr', '0.01', '--device', 'cpu', '--preview_every', '4', '--checkpoint_every', '4'];
const runState = (page) => page.locator('#run-state .badge').getAttribute('data-state').catch(() => null);

function train(args) {
  const child = spawn(PYTHON, ['-m', 'worker.train', ...args, ...TINY],
    { cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.log = '';
  child.stderr.on('data', (d) => { child.log += d; });
  child.exited = new Promise((resolve) => child.on('exit', resolve));
  return child;
}

test('runs trained from the command line, in the web app', { timeout: 300000 }, async (t) => {
  const { tmp, data, browser, url } = await studio(t, 'tn-cli-');
  const runs = path.join(tmp, 'runs');
  // A texture file outside the app's textures: the run's folder is where its picture comes from.
  const texture = path.join(tmp, 'red_stripes.png');
  fs.writeFileSync(texture, encodePng(48, 48, (x, y) => ((x + y) % 12 < 6 ? [200, 30, 40] : [240, 220, 200])));
  const finished = train(['--data_dir', data, '--texture', texture, '--out', path.join(runs, 'stripes-cli'), '--iterations', '12']);
  assert.strictEqual(await finished.exited, 0, finished.log.slice(-2000));
  const page = await newPage(browser);

  await t.test('the runs list shows a finished command-line run, with its texture', async () => {
    await page.goto(`${url}/#/`);
    const card = page.locator('.run-card[data-run="stripes-cli"]');
    await card.waitFor({ timeout: 15000 });
    assert.strictEqual(await card.locator('.run-title').textContent(), 'Red stripes');
    assert.match(await card.locator('.run-sub').textContent(), /trained from the command line/);
    assert.strictEqual(await card.getAttribute('data-state'), 'done');
    const thumb = card.locator('img').first();
    await until(() => thumb.evaluate((img) => img.complete && img.naturalWidth > 0), { timeout: 10000, what: 'the texture picture' });
    await shot(page, 'runs-cli');
  });

  await t.test('a folder that cannot be read is listed as failed with its reason; the others still show', async () => {
    fs.cpSync(path.join(runs, 'stripes-cli'), path.join(runs, 'broken-copy'), { recursive: true });
    fs.writeFileSync(path.join(runs, 'broken-copy', 'config.json'), '{"texture": '); // cut off mid-write
    t.after(() => fs.rmSync(path.join(runs, 'broken-copy'), { recursive: true, force: true }));
    await page.goto(`${url}/#/`);
    const card = page.locator('.run-card[data-run="broken-copy"]');
    await card.waitFor({ timeout: 15000 });
    assert.strictEqual(await card.getAttribute('data-state'), 'failed');
    assert.match(await card.locator('.run-reason').textContent(), /cannot be read: its config\.json cannot be read/);
    assert.strictEqual(await page.locator('.run-card[data-run="stripes-cli"]').getAttribute('data-state'), 'done');
    await card.locator('.run-link').click();
    await page.locator('#failure-message', { hasText: /its config\.json cannot be read .*the other files are untouched: mend config\.json .* or delete the folder/ }).waitFor({ timeout: 15000 });
    await shot(page, 'dashboard-cli-unreadable');
    // Deleted by hand while its dashboard is open: on its way out (its config and exemplar gone
    // first) the page asks for no texture its record does not name (it once asked for "texture").
    fs.rmSync(path.join(runs, 'broken-copy'), { recursive: true, force: true });
    await page.goto(`${url}/#/`);
    await until(async () => (await card.count()) === 0, { timeout: 15000, what: 'the removed folder gone from the list' });
    assert.deepStrictEqual(page.errors, []);
  });

  await t.test('its dashboard has the curve, the previews and the checkpoints', async () => {
    await page.locator('.run-card[data-run="stripes-cli"] .run-link').click();
    await page.locator('#run-origin', { hasText: 'trained from the command line' }).waitFor();
    assert.strictEqual(await runState(page), 'done');
    await until(async () => Number(await page.locator('.chart-card').getAttribute('data-points')) === 12, { timeout: 15000, what: '12 points' });
    await page.locator('#preview-image').waitFor();
    assert.ok(await page.locator('#preview-image').evaluate((img) => img.naturalWidth > 0));
    assert.strictEqual(await page.locator('#checkpoints .ckpt:not(.ckpt-model)').count(), 3);
    await shot(page, 'dashboard-cli-done');
    await page.setViewportSize({ width: 400, height: 800 });
    await shot(page, 'dashboard-cli-done-narrow');
    await assertNoOverflow(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepStrictEqual(page.errors, []);
  });

  await t.test('its open dashboard reads the new log when a command-line --resume replaces it', async () => {
    const resume = spawn(PYTHON, ['-m', 'worker.train', '--resume', path.join(runs, 'stripes-cli'), '--iterations', '16'],
      { cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: 'ignore' });
    assert.strictEqual(await new Promise((resolve) => resume.on('exit', resolve)), 0);
    // The page mounts again on the run_reset and follows the new file: 16 points, each once.
    await until(async () => Number(await page.locator('.chart-card').getAttribute('data-points')) === 16
      && (await runState(page)) === 'done', { timeout: 30000, what: '16 points, done' });
    await page.waitForTimeout(1500); // nothing more comes: no iteration counted twice
    assert.strictEqual(Number(await page.locator('.chart-card').getAttribute('data-points')), 16);
    assert.strictEqual(await page.locator('#checkpoints .ckpt:not(.ckpt-model)').count(), 4);
    assert.deepStrictEqual(page.errors, []);
  });

  await t.test('a command-line run still training is followed live and stopped from the page', async () => {
    const live = train(['--data_dir', data, '--texture', texture, '--out', path.join(runs, 'stripes-live'), '--iterations', '100000']);
    t.after(() => live.kill('SIGKILL'));
    await page.goto(`${url}/#/`);
    const card = page.locator('.run-card[data-run="stripes-live"]');
    await card.waitFor({ timeout: 60000 });
    // The card's count moves with the run_state messages: the list is not fetched again.
    let fetches = 0;
    const count = (request) => { if (new URL(request.url()).pathname === '/api/runs') fetches += 1; };
    page.on('request', count);
    const counter = async () => Number(((await card.locator('.run-iters').textContent()) || '0').split('/')[0].replace(/\D/g, '') || 0);
    await until(async () => (await counter()) >= 2, { timeout: 90000, what: 'the card counting' });
    const before = await counter();
    await until(async () => (await counter()) > before, { timeout: 30000, what: 'the card count moving' });
    page.off('request', count);
    assert.strictEqual(fetches, 0, 'the runs list was fetched again');
    await page.goto(`${url}/#/runs/stripes-live`);
    const progress = page.locator('#progress-text');
    const iteration = async () => Number(((await progress.textContent()) || '').match(/Iteration ([\d,]+)/)?.[1]?.replace(/,/g, '') || 0);
    await until(async () => (await iteration()) >= 3, { timeout: 90000, what: 'iteration 3 on the page' });
    const seen = await iteration();
    await until(async () => (await iteration()) > seen, { timeout: 30000, what: 'the count moving' });
    assert.strictEqual(await runState(page), 'running');
    await page.locator('#stop-run').click();
    await page.locator('dialog[open] button', { hasText: 'Stop training' }).click();
    assert.strictEqual(await live.exited, 0, live.log.slice(-2000));
    await until(async () => (await runState(page)) === 'stopped', { timeout: 30000, what: 'the stopped state' });
    await page.locator('#checkpoints .ckpt').first().waitFor();
    await shot(page, 'dashboard-cli-stopped');
    assert.deepStrictEqual(page.errors, []);
  });

  await t.test('the two command-line runs, ticked on their cards, compare side by side', async () => {
    await page.goto(`${url}/#/`);
    for (const id of ['stripes-cli', 'stripes-live']) await page.locator(`.run-card[data-run="${id}"] .pick-input`).check();
    await page.locator('#compare-selected', { hasText: 'Compare 2 runs' }).click();
    const rows = page.locator('#compare-grid .cmp-row[data-run]');
    await until(async () => (await rows.count()) === 2, { timeout: 15000, what: 'two rows' });
    assert.deepStrictEqual(await rows.evaluateAll((els) => els.map((el) => el.dataset.run)), ['stripes-cli', 'stripes-live']);
    // Each row shows its own previews (4 photos) at an iteration it reached, from its own folder.
    for (const id of ['stripes-cli', 'stripes-live']) {
      const cells = page.locator(`#compare-grid .cmp-open[data-run="${id}"]`);
      await until(async () => (await cells.count()) === 4, { timeout: 15000, what: `${id}'s 4 cells` });
      const img = cells.first().locator('img');
      await until(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), { timeout: 10000, what: `${id}'s preview` });
      assert.match(await img.getAttribute('src'), new RegExp(`${id}.*previews/iter_\\d{7}\\.png`));
    }
    await shot(page, 'compare-cli');
    assert.deepStrictEqual(page.errors, []);
  });
});
