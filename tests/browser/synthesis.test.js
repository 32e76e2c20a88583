'use strict';
// Texture synthesis through the UI, on the CPU with random VGG weights and 32 px samples: the
// wizard in synthesis mode (no photos), the dashboard (exemplar, samples per seed, the live 2x2
// tiling, the synthesis curves), Generate (a 1024 px sample and its 2048 px tiling, downloaded),
// Run again, the runs list and the compare view. Screenshots wide and 400 px narrow.
const test = require('node:test');
const assert = require('node:assert');
const { assertNoOverflow, download, newPage, shot, studio, until } = require('./helpers');

const runState = (page) => page.locator('#run-state .badge').getAttribute('data-state').catch(() => null);
const pngSize = (bytes) => [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
const narrow = async (page, name) => {
  await page.setViewportSize({ width: 400, height: 800 });
  await shot(page, `narrow-${name}`);
  await assertNoOverflow(page);
  await page.setViewportSize({ width: 1280, height: 800 });
};

test('texture synthesis: wizard, dashboard, generate and download, runs list, compare', { timeout: 120000 }, async (t) => {
  const { browser, url } = await studio(t, 'tn-synth-');
  const page = await newPage(browser);
  let runId = null;

  await t.test('the wizard trains a texture without photos', async () => {
    await page.goto(`${url}/#/new`);
    await page.locator('label[for="mode-synthesis"]').click();
    await page.locator('#synthesis-note').waitFor();
    assert.strictEqual(await page.getByLabel('Folder path').count(), 0, 'no photos to choose');
    await shot(page, 'wizard-synthesis-mode');
    await narrow(page, 'wizard-synthesis-mode');
    await page.locator('#wizard-next').click();
    await page.locator('[data-texture="craquelure"]').click();
    await page.locator('#wizard-next').click();
    await page.locator('[data-preset="quick"]').click();
    await page.locator('#advanced summary').click();
    assert.strictEqual(await page.locator('input[name="diversity"]').count(), 1);
    for (const name of ['content_weight', 'balance', 'noise']) assert.strictEqual(await page.locator(`input[name="${name}"]`).count(), 0, name);
    const fields = { image_size: 32, style_size: 32, batch_size: 4, iterations: 6, preview_every: 3, checkpoint_every: 3, workers: 0 };
    for (const [name, value] of Object.entries(fields)) await page.locator(`input[name="${name}"]`).fill(String(value));
    await page.selectOption('select[name="device"]', 'cpu');
    await page.selectOption('select[name="vgg_weights"]', 'random');
    await page.locator('#estimate-mode', { hasText: 'half a 256 px stylization step' }).waitFor();
    await shot(page, 'wizard-synthesis-settings');
    await page.locator('#wizard-next').click();
    assert.match(await page.locator('#review-mode').textContent(), /^Texture synthesis/);
    assert.doesNotMatch(await page.locator('.summary').textContent(), /Photos/);
    await shot(page, 'wizard-synthesis-review');
    await narrow(page, 'wizard-synthesis-review');
    await page.locator('#wizard-next').click();
    await page.waitForURL(/#\/runs\/[^/]+$/);
    runId = decodeURIComponent(page.url().split('#/runs/')[1]);
  });

  await t.test('the dashboard shows the exemplar, the samples per seed, their tiling and the synthesis curves', async () => {
    await until(async () => (await runState(page)) === 'done', { timeout: 60000, what: 'the run to finish' });
    await page.locator('#preview-exemplar').waitFor();
    await until(async () => (await page.locator('#preview-samples .sample').count()) === 4, { timeout: 15000, what: 'four seeds' });
    assert.deepStrictEqual(await page.locator('#preview-samples figcaption').allTextContents(), ['seed 0', 'seed 1', 'seed 2', 'seed 3']);
    await page.locator('#preview-tiled').waitFor();
    assert.ok(await page.locator('#preview-tiled').evaluate((img) => img.complete && img.naturalWidth === 64), 'the 2x2 tiling of a 32 px sample');
    assert.strictEqual(await page.locator('#preview-photos').isVisible(), false);
    assert.strictEqual(await page.locator('.chart-card').getAttribute('data-mode'), 'synthesis');
    await until(async () => (await page.locator('.chart-card').getAttribute('data-points')) === '6', { timeout: 15000, what: '6 points' });
    await page.locator('#scale-note', { hasText: 'can be negative' }).waitFor(); // the log scale: said what it leaves out
    assert.match(await page.locator('#loss-chart').textContent(), /Distance between samples/);
    assert.strictEqual(await page.locator('#stylize-title').isVisible(), false);
    assert.match(await page.locator('#run-mode').textContent(), /Texture synthesis/);
    await page.getByText('Linear', { exact: true }).click();
    await page.locator('#scale-note').waitFor({ state: 'hidden' });
    assert.match(await page.locator('#loss-chart').textContent(), /Diversity term/);
    await shot(page, 'dashboard-synthesis');
  });

  await t.test('Generate: a 1024 px sample and its 2048 px tiling, downloaded', async () => {
    assert.deepStrictEqual([await page.getByLabel('Width (px)').inputValue(), await page.getByLabel('Height (px)').inputValue()], ['1024', '1024']);
    await page.getByLabel('First seed').fill('5');
    await page.locator('#generate-go').click();
    await page.locator('#generate-download-5').waitFor({ timeout: 60000 });
    const sample = await download(page, page.locator('#generate-download-5'));
    assert.match(sample.name, /seed5-1024x1024\.png$/);
    assert.deepStrictEqual(pngSize(sample.bytes), [1024, 1024]);
    const tiling = await download(page, page.locator('#generate-download-tiled-5'));
    assert.deepStrictEqual(pngSize(tiling.bytes), [2048, 2048]);
    await shot(page, 'dashboard-synthesis-generated');
    await narrow(page, 'dashboard-synthesis-generated');
  });

  await t.test('Run again reopens the wizard in synthesis mode, with its texture', async () => {
    await page.locator('#run-again').click();
    await page.waitForURL(/#\/new$/);
    assert.ok(await page.locator('#mode-synthesis').isChecked());
    await page.locator('#wizard-next').click();
    assert.strictEqual(await page.locator('input[name="texture"]:checked').getAttribute('value'), 'craquelure');
  });

  await t.test('the runs list and the compare view show synthesis runs', async () => {
    // A second, shorter run with the diversity term (off by default), otherwise the same, to compare with.
    const { config } = (await (await fetch(`${url}/api/runs/${encodeURIComponent(runId)}`)).json()).run;
    const res = await fetch(`${url}/api/runs`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ config: { ...config, iterations: 3, diversity: 0.01 } }),
    });
    assert.strictEqual(res.status, 201);
    const other = (await res.json()).run.id;
    await page.goto(`${url}/#/`);
    const card = page.locator(`.run-card[data-run="${runId}"]`);
    await card.waitFor();
    assert.strictEqual(await card.getAttribute('data-mode'), 'synthesis');
    assert.ok(await card.locator('.run-mode').isVisible());
    assert.match(await card.locator('.run-parts').textContent(), /^style \S+ · diversity \S+ · distance \S+$/);
    await page.locator(`.run-card[data-run="${other}"][data-state="done"]`).waitFor({ timeout: 60000 });
    await shot(page, 'runs-list-synthesis');
    await narrow(page, 'runs-list-synthesis');

    await page.goto(`${url}/#/compare/${encodeURIComponent(runId)},${encodeURIComponent(other)}`);
    await until(async () => (await page.locator('#compare-grid .cmp-row[data-run] .cmp-open').count()) === 8, { timeout: 15000, what: '2 rows of 4 seeds' });
    assert.deepStrictEqual(await page.locator('#compare-grid .cmp-head .cmp-seed').allTextContents(), ['seed 0', 'seed 1', 'seed 2', 'seed 3']);
    assert.match(await page.locator('#compare-grid .cmp-row[data-run] .cmp-label strong').first().textContent(), /^Iterations 6 · Diversity 0$/);
    await shot(page, 'compare-synthesis');
    await narrow(page, 'compare-synthesis');
    await page.locator(`#compare-grid .cmp-open[data-run="${runId}"][data-photo="2"]`).click();
    await page.locator('#cell-dialog[open] #generate-go').waitFor();
    assert.match(await page.locator('#cell-dialog .cell-head').textContent(), /seed 2/);
    await shot(page, 'compare-synthesis-cell', { fullPage: false });
    await page.locator('#cell-close').click();
  });

  await t.test('the page logged no errors', () => {
    assert.deepStrictEqual(page.errors, []);
  });
});
