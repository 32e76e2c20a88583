'use strict';
// The UI without training: the empty runs list, the wizard's steps and its error paths
// (a folder that does not exist, a non-image texture refused by the browser and by the
// server, a run the server refuses to start), keyboard use, and a narrow window.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { assertNoOverflow, makeDataset, newPage, shot, studio, wizardTextures, workerPid } = require('./helpers');

// The browser logs every 4xx answer as a console error. Only those the test provokes on
// purpose are expected; anything else is a failure.
function unexpected(errors, allowed = []) {
  return errors.filter((e) => !allowed.some((re) => re.test(e)));
}
const REFUSED = (route) => new RegExp(`Failed to load resource: the server responded with a status of 4\\d\\d .*${route}`);

test('wizard: empty state, errors shown inline, keyboard, narrow window', { timeout: 150000 }, async (t) => {
  const { tmp, data, server, browser, url } = await studio(t, 'tn-ui-');

  await t.test('the empty runs list invites a first run', async () => {
    const page = await newPage(browser);
    await page.goto(`${url}/#/`);
    await page.locator('.empty h2', { hasText: 'No runs yet' }).waitFor();
    assert.ok(await page.getByRole('link', { name: 'Start your first run' }).isVisible());
    assert.ok(await page.getByRole('link', { name: 'New run' }).first().isVisible());
    await page.locator('#worker-status[data-state="up"]').waitFor();
    await shot(page, 'runs-empty');
    assert.deepStrictEqual(page.errors, []);
    await page.close();
  });

  await t.test('dataset step: a folder that does not exist shows the server message; Next stays off', async () => {
    const page = await newPage(browser);
    await page.goto(`${url}/#/new`);
    const next = page.locator('#wizard-next');
    assert.ok(await next.isDisabled());
    await page.getByLabel('Folder path').fill(path.join(tmp, 'no-such-folder'));
    const error = page.locator('#scan-error');
    await error.waitFor();
    assert.match(await error.textContent(), /does not exist/);
    assert.match(await error.textContent(), /no-such-folder/);
    assert.ok(await next.isDisabled());
    await shot(page, 'wizard-1-dataset-error');

    // A folder without photos: no usable photo is an error too.
    const emptyDir = path.join(tmp, 'empty');
    fs.mkdirSync(emptyDir);
    fs.writeFileSync(path.join(emptyDir, 'notes.txt'), 'not a photo');
    fs.writeFileSync(path.join(emptyDir, 'broken.jpg'), 'not a jpeg either');
    await page.getByLabel('Folder path').fill(emptyDir);
    await page.locator('#scan-error').filter({ hasText: /No usable photo in \S*empty: 1 image file was unreadable \(1 not a readable image\); 1 other file was ignored/ }).waitFor();
    assert.ok(await next.isDisabled());
    await shot(page, 'wizard-1-dataset-unusable');

    // Then a good folder: counts, thumbnails, Next on.
    await page.getByLabel('Folder path').fill(data);
    await page.locator('#scan-ok').waitFor();
    assert.match(await page.locator('#scan-ok').textContent(), /10 usable photos/);
    assert.strictEqual(await page.locator('.thumbs img').count(), 6);
    assert.ok(await next.isEnabled());
    await shot(page, 'wizard-1-dataset-ok');
    assert.deepStrictEqual(unexpected(page.errors, [REFUSED('/api/datasets/scan')]), []);
    await page.close();
  });

  await t.test('texture step: non-images refused by the browser and by the server; keyboard selection', async () => {
    const page = await newPage(browser);
    await wizardTextures(page, url);
    assert.ok(await page.locator('#wizard-next').isDisabled());

    // Keyboard: the gallery is a radio group.
    await page.locator('input[name="texture"]').first().focus();
    await page.keyboard.press('ArrowRight');
    const chosen = await page.locator('input[name="texture"]:checked').getAttribute('value');
    assert.strictEqual(chosen, 'marbled_paper');
    await page.locator('.network-canvas').waitFor();
    // Shown at the style size: long side 256 px.
    const size = await page.locator('.network-canvas').evaluate((c) => [c.width, c.height, c.getBoundingClientRect().width]);
    assert.deepStrictEqual(size, [256, 256, 256]);
    await page.getByLabel('Style size (px)').fill('128');
    await page.waitForFunction(() => document.querySelector('.network-canvas').width === 128);
    assert.ok(await page.locator('#wizard-next').isEnabled());

    // A text file: refused before any upload.
    await page.locator('#texture-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await page.locator('#upload-error').waitFor();
    assert.match(await page.locator('#upload-error').textContent(), /notes\.txt is not an image/);

    // Over 20 MB: refused before any upload.
    await page.locator('#texture-file').setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(20 * 2 ** 20 + 1) });
    await page.locator('#upload-error', { hasText: '20 MB' }).waitFor();

    // Named like an image but is not one: the server's refusal is shown.
    await page.locator('#texture-file').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('this is not a PNG at all') });
    await page.locator('#upload-error', { hasText: 'server refused fake.png' }).waitFor();
    assert.match(await page.locator('#upload-error').textContent(), /not an image/);
    await shot(page, 'wizard-2-texture-upload-error');

    // A real image uploads, joins the gallery and is selected.
    const png = fs.readFileSync(path.join(tmp, 'photos', 'photo_03.png'));
    await page.locator('#texture-file').setInputFiles({ name: 'my texture.png', mimeType: 'image/png', buffer: png });
    await page.locator('.texture-card.selected[data-texture^="my-texture"]').waitFor();
    assert.strictEqual(await page.locator('#upload-error').count(), 0);
    // Selected as if clicked: the only checked radio, and Next is on.
    assert.match(await page.locator('input[name="texture"]:checked').getAttribute('value'), /^my-texture/);
    assert.strictEqual(await page.locator('.texture-card.selected').count(), 1);
    await page.waitForFunction(() => !document.querySelector('#wizard-next').disabled);
    await shot(page, 'wizard-2-texture-uploaded');
    assert.deepStrictEqual(unexpected(page.errors, [REFUSED('/api/textures')]), []);
    await page.close();
  });

  await t.test('settings and review: presets, validation, a start the server refuses', async () => {
    const doomed = makeDataset(path.join(tmp, 'doomed'), 3);
    const page = await newPage(browser);
    await page.goto(`${url}/#/new`);
    await page.getByLabel('Folder path').fill(doomed);
    await page.locator('#scan-ok').waitFor();
    await page.keyboard.press('Enter'); // Enter rescans, never jumps a step by surprise
    await page.locator('#wizard-next').click();
    await page.locator('[data-texture="craquelure"]').click();
    await page.locator('#wizard-next').click();

    // Presets
    await page.locator('[data-preset="quick"]').click();
    await page.locator('#advanced summary').click();
    assert.strictEqual(await page.locator('input[name="image_size"]').inputValue(), '64');
    assert.strictEqual(await page.locator('input[name="batch_size"]').inputValue(), '2');
    assert.strictEqual(await page.locator('input[name="iterations"]').inputValue(), '300');
    await page.locator('[data-preset="high"]').click();
    assert.strictEqual(await page.locator('input[name="style_size"]').inputValue(), '512');
    await page.locator('#device-card').filter({ hasText: /Estimated training time/ }).waitFor();
    // Every option is there with its default.
    for (const name of ['balance', 'content_weight', 'noise', 'lr', 'checkpoint_every', 'preview_every', 'lr_step', 'lr_decay', 'scales', 'seed', 'workers']) {
      assert.strictEqual(await page.locator(`input[name="${name}"]`).count(), 1, name);
    }
    assert.strictEqual(await page.locator('.weights input').count(), 5);
    assert.deepStrictEqual(await page.locator('select[name="norm"] option').evaluateAll((o) => o.map((x) => x.value)), ['instance', 'batch']);
    assert.deepStrictEqual(await page.locator('select[name="device"] option').evaluateAll((o) => o.map((x) => x.value)), ['auto', 'cpu', 'cuda']);
    assert.match(await page.locator('select[name="vgg_weights"] option[value="random"]').textContent(), /for testing only/);
    // Precision: Auto trains in bf16 on a CPU that has it, and the estimate assumes so; fp32 does not.
    assert.deepStrictEqual(await page.locator('select[name="precision"] option').evaluateAll((o) => o.map((x) => x.value)), ['auto', 'fp32']);
    const { device } = await page.evaluate(() => fetch('/api/device').then((r) => r.json()));
    const assumption = () => page.locator('#device-card .small').textContent();
    assert.match(await assumption(), device.cpu_bf16 ? /0\.45 s per 256 px image .*computes bf16/ : /0\.9 s per 256 px image .*no bf16/);
    await page.selectOption('select[name="precision"]', 'fp32');
    await page.locator('#device-card', { hasText: /0\.9 s per 256 px image/ }).waitFor();
    await page.selectOption('select[name="precision"]', 'auto');

    // An invalid value: inline error, Next off; fixed: on again.
    await page.locator('input[name="iterations"]').fill('0');
    await page.locator('.field-error', { hasText: 'At least 1' }).waitFor();
    assert.ok(await page.locator('#wizard-next').isDisabled());
    await shot(page, 'wizard-3-settings-invalid');
    await page.locator('input[name="iterations"]').fill('5');
    await page.locator('input[name="image_size"]').fill('32');
    await page.locator('input[name="style_size"]').fill('32');
    await page.selectOption('select[name="vgg_weights"]', 'random');
    assert.ok(await page.locator('#wizard-next').isEnabled());
    await shot(page, 'wizard-3-settings');
    await page.locator('#wizard-next').click();
    await page.locator('.summary').waitFor();
    await shot(page, 'wizard-4-review');

    // The folder disappears before Start: the server's refusal is shown, the wizard stays.
    fs.rmSync(doomed, { recursive: true });
    await page.locator('#wizard-next').click();
    await page.locator('#start-error').waitFor();
    assert.match(await page.locator('#start-error').textContent(), /does not exist/);
    assert.match(page.url(), /#\/new$/);
    await shot(page, 'wizard-4-start-error');
    assert.deepStrictEqual(unexpected(page.errors, [REFUSED('/api/runs')]), []);
    await page.close();
  });

  await t.test('narrow window (400 px): runs list and wizard', async () => {
    const page = await newPage(browser, { width: 400, height: 800 });
    await page.goto(`${url}/#/`);
    await page.locator('.empty').waitFor();
    await shot(page, 'narrow-runs-empty');
    await page.goto(`${url}/#/new`);
    await page.getByText('The built-in sample photos').click();
    await page.locator('#scan-ok').waitFor();
    await shot(page, 'narrow-wizard-1');
    await page.locator('#wizard-next').click();
    await page.locator('[data-texture="watercolour"]').click();
    await page.locator('.network-canvas').waitFor();
    await shot(page, 'narrow-wizard-2');
    await page.locator('#wizard-next').click();
    await page.locator('#advanced summary').click();
    await shot(page, 'narrow-wizard-3');
    // Nothing is wider than the window.
    await assertNoOverflow(page);
    assert.deepStrictEqual(page.errors, []);
    await page.close();
  });

  await t.test('a worker that dies shows a banner until it is back', async () => {
    const page = await newPage(browser);
    await page.goto(`${url}/#/`);
    await page.locator('#worker-status[data-state="up"]').waitFor();
    await page.locator('.empty').waitFor();
    await page.waitForLoadState('networkidle');
    const pid = workerPid(server.pid);
    assert.ok(pid, 'the worker service process');
    process.kill(pid, 'SIGKILL');
    await page.locator('#worker-status[data-state="down"]').waitFor({ timeout: 15000 });
    const banner = page.locator('#banner .banner');
    await banner.waitFor();
    assert.match(await banner.textContent(), /worker is down/);
    await shot(page, 'runs-worker-down', { fullPage: false });
    await page.locator('#worker-status[data-state="up"]').waitFor({ timeout: 90000 });
    await page.locator('#banner .banner').waitFor({ state: 'detached' });
    assert.deepStrictEqual(page.errors, []);
    await page.close();
  });
});
