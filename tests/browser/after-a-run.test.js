'use strict';
// After a run: runs you can tell apart (the settings that differ, a failed run's reason, a name
// of your own, set and changed), the style-strength slider re-rendering on release, a failed
// stylize clearing the last results, Delete refused before it is asked while a continuation
// runs, the compare counter moving with the events, and a delete that says it worked.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { SHOTS, newPage, shot, studio, until } = require('./helpers');

// "1 min 05 s" or "42 s" (format.js duration) in seconds.
const seconds = (text) => [...text.matchAll(/(\d+) (h|min|s)\b/g)].reduce((t, [, n, u]) => t + Number(n) * { h: 3600, min: 60, s: 1 }[u], 0);
const BASE = { texture: 'starry_swirls', image_size: 32, style_size: 32, batch_size: 2, workers: 0, vgg_weights: 'random' };

test('after a run: tell runs apart, name them, stylize by slider, delete with feedback', { timeout: 300000 }, async (t) => {
  const { tmp, data, browser, url } = await studio(t, 'tn-after-');
  const api = (method, route, body) => fetch(`${url}${route}`, {
    method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: r.status === 204 ? null : await r.json() }));
  const post = async (config) => {
    const res = await api('POST', '/api/runs', { config });
    assert.strictEqual(res.status, 201, JSON.stringify(res.body));
    return res.body.run.id;
  };
  const stateOf = async (id) => (await api('GET', `/api/runs/${encodeURIComponent(id)}`)).body.run.state;

  // Three runs of one texture: two that differ in content weight, one that fails (no weights).
  const common = { ...BASE, data_dir: data, iterations: 6, preview_every: 2, checkpoint_every: 1000 }; // checkpoints at the end only
  const soft = await post({ ...common, content_weight: 1000 });
  const strong = await post({ ...common, content_weight: 4000 });
  const failed = await post({ ...common, content_weight: 1000, vgg_weights: path.join(tmp, 'missing-vgg19.pth') });
  await until(async () => ['done', 'done', 'failed'].join() === (await Promise.all([soft, strong, failed].map(stateOf))).join(),
    { timeout: 150000, interval: 500, what: 'two runs done and one failed' });

  const page = await newPage(browser);
  const card = (id) => page.locator(`.run-card[data-run="${id}"]`);

  await t.test('the runs list shows what tells the runs apart, and why one failed', async () => {
    await page.goto(`${url}/#/`);
    await card(failed).waitFor();
    assert.deepStrictEqual(await Promise.all([soft, strong, failed].map((id) => card(id).locator('.run-title').textContent())),
      ['Starry swirls', 'Starry swirls', 'Starry swirls']);
    const settings = await Promise.all([soft, strong].map((id) => card(id).locator('.run-settings').textContent()));
    assert.match(settings[0], /Content weight 1000\b/);
    assert.match(settings[1], /Content weight 4000\b/);
    assert.notStrictEqual(settings[0], settings[1]);
    const reason = card(failed).locator('.run-reason');
    assert.ok(await reason.isVisible());
    assert.match(await reason.textContent(), /missing-vgg19\.pth|weights/i);
    assert.ok(await card(soft).locator('.run-reason').isHidden());
  });

  await t.test('a run is named, and renamed: the list, its folder, the dashboard and the comparison say so', async () => {
    const rename = async (id, name) => {
      await card(id).locator('.run-rename').click();
      const input = page.locator('#prompt-input');
      await input.fill(name);
      await page.locator('#prompt-ok').click();
      await until(async () => (await card(id).locator('.run-title').textContent()) === name, { timeout: 10000, what: `the name ${name}` });
    };
    await rename(soft, 'Soft swirls');
    const meta = path.join(tmp, 'runs', soft, 'meta.json');
    assert.strictEqual(JSON.parse(fs.readFileSync(meta, 'utf8')).name, 'Soft swirls');
    await rename(soft, 'Gentle swirls');
    assert.strictEqual(JSON.parse(fs.readFileSync(meta, 'utf8')).name, 'Gentle swirls');
    assert.match(await card(soft).locator('.run-sub').textContent(), /^Starry swirls · /); // the texture still said
    await page.reload();
    await until(async () => (await card(soft).locator('.run-title').textContent()) === 'Gentle swirls', { timeout: 10000, what: 'the name after a reload' });
    await shot(page, 'after-runs-list');
    const narrow = await newPage(browser, { width: 400, height: 900 });
    await narrow.goto(`${url}/#/`);
    await narrow.locator(`.run-card[data-run="${soft}"] .run-settings`).waitFor();
    await shot(narrow, 'after-runs-list-400');
    await narrow.close();

    await page.goto(`${url}/#/runs/${encodeURIComponent(soft)}`);
    await until(async () => (await page.locator('h1.run-h1').textContent()) === 'Gentle swirls', { timeout: 10000, what: 'the name on the dashboard' });
    await page.goto(`${url}/#/compare/${soft},${strong}`);
    await until(async () => /Gentle swirls/.test(await page.locator(`#compare-grid .cmp-row[data-run="${soft}"] .cmp-label strong`).textContent().catch(() => '')),
      { timeout: 10000, what: 'the name in the comparison' });
    // A picture opened large: the dialog at its top, the pictures in view, focus not on Close.
    await page.locator(`#compare-grid .cmp-row[data-run="${soft}"] .cmp-open`).first().click();
    const dialog = page.locator('#cell-dialog');
    await dialog.waitFor();
    await page.waitForTimeout(300);
    const view = await dialog.evaluate((el) => {
      const figs = el.querySelector('.cell-figures').getBoundingClientRect();
      return { scrollTop: el.scrollTop, figsTop: figs.top, figsBottom: figs.bottom, height: window.innerHeight, focus: document.activeElement?.id };
    });
    assert.strictEqual(view.scrollTop, 0, JSON.stringify(view));
    assert.ok(view.figsTop >= 0 && view.figsBottom <= view.height, JSON.stringify(view));
    assert.notStrictEqual(view.focus, 'cell-close');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.deepStrictEqual(page.errors, []);
  });

  await t.test('the style-strength slider re-renders on release; a failed stylize leaves no old results', async () => {
    await page.goto(`${url}/#/runs/${encodeURIComponent(soft)}`);
    await page.locator('#stylize-file').setInputFiles(path.join(data, 'photo_04.png'));
    await page.locator('#stylize-go').click();
    const out = page.locator('#stylize-output');
    await out.waitFor({ timeout: 60000 });
    assert.strictEqual(await out.getAttribute('data-noise'), '1');
    const slider = page.locator('section[aria-labelledby="stylize-title"] input[type="range"]');
    await slider.focus();
    await page.keyboard.press('ArrowRight'); // 1.1, released at once: a change event
    await until(async () => (await out.getAttribute('data-noise').catch(() => null)) === '1.1', { timeout: 30000, what: 'the photo re-rendered at 1.1' });
    assert.strictEqual(await out.getAttribute('data-preview'), 'true');
    // A finished run's speed is its average, not its last instant's.
    assert.strictEqual(await page.locator('#stat-speed').locator('xpath=..').locator('dt').textContent(), 'Average speed');
    assert.match(await page.locator('#stat-speed').textContent(), /^\d+(\.\d+)? it\/s$/);
    await shot(page, 'after-dashboard');
    const narrow = await newPage(browser, { width: 400, height: 900 });
    await narrow.goto(`${url}/#/runs/${encodeURIComponent(soft)}`);
    await narrow.locator('#stylize-go').waitFor();
    await shot(narrow, 'after-dashboard-400');
    await narrow.close();
    // The panel alone, whole, below the sticky header.
    const panel = page.locator('section[aria-labelledby="stylize-title"]');
    await page.setViewportSize({ width: 1280, height: 1400 });
    await panel.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 80));
    await panel.screenshot({ path: path.join(SHOTS, 'after-stylize.png') });
    await page.setViewportSize({ width: 1280, height: 800 });

    // A file that says it is a PNG and is not: the worker refuses it; the last results go.
    const bad = path.join(tmp, 'broken.png');
    fs.writeFileSync(bad, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really a png')]));
    await page.locator('#stylize-file').setInputFiles(bad);
    await page.locator('#stylize-go').click();
    await page.locator('#stylize-error').waitFor({ timeout: 30000 });
    assert.strictEqual(await out.count(), 0);
    assert.strictEqual(await page.locator('.stylize-result').evaluate((el) => el.children.length), 0);
    page.errors = page.errors.filter((e) => !/status of 4\d\d/.test(e)); // the refused request itself
    assert.deepStrictEqual(page.errors, []);
  });

  await t.test('a run continuing from it: Delete says why before asking; the compare counter moves', async () => {
    const res = await api('POST', `/api/runs/${encodeURIComponent(soft)}/continue`, { iterations: 2000 });
    assert.strictEqual(res.status, 201, JSON.stringify(res.body));
    const cont = res.body.run.id;
    t.after(() => api('POST', `/api/runs/${encodeURIComponent(cont)}/stop`).catch(() => {}));
    await until(async () => (await stateOf(cont)) === 'running', { timeout: 30000, what: 'the continuation running' });

    // Its dashboard, as it loads, shows its own figures: its own iterations to go and its own
    // time, not its source's history (ended, no time left) nor the gap between the two.
    const source = (await api('GET', `/api/runs/${encodeURIComponent(soft)}`)).body.run;
    const own = (await api('GET', `/api/runs/${encodeURIComponent(cont)}`)).body.run;
    assert.ok(own.created - source.started > 10, 'the source must have started well before its continuation');
    await page.goto(`${url}/#/runs/${encodeURIComponent(cont)}`);
    const seen = []; // what the page says, from before the run's own start event until just after it
    await until(async () => {
      const [elapsed, eta, progress] = await Promise.all(['#stat-elapsed', '#stat-eta', '#progress-text'].map((s) => page.locator(s).textContent()));
      seen.push({ elapsed, eta, progress, age: Date.now() / 1000 - own.created });
      return /\d/.test(elapsed) && /\d/.test(eta);
    }, { timeout: 60000, interval: 100, what: 'its own elapsed time and remaining time' });
    for (const s of seen) {
      assert.ok(s.elapsed === '–' || seconds(s.elapsed) <= s.age + 2, `elapsed ${s.elapsed}, but the run was created ${s.age.toFixed(1)} s before`);
      assert.ok(['–', 'estimating…'].includes(s.eta) || seconds(s.eta) > 0, `remaining ${s.eta} with ${own.iterations} iterations to go`);
    }
    assert.match(seen.at(-1).progress, /of 2,000\b/);

    await page.goto(`${url}/#/runs/${encodeURIComponent(soft)}`);
    await page.locator('#delete-blocked').waitFor({ timeout: 10000 });
    assert.match(await page.locator('#delete-blocked').textContent(), new RegExp(`cannot be deleted while .*${cont}.*running`));
    assert.ok(await page.locator('#delete-run').isDisabled());

    // The comparison: the continuation's counter follows its iterations (no checkpoint, so no
    // new RunInfo, comes before iteration 2000).
    await page.goto(`${url}/#/compare/${soft},${cont}`);
    const counter = page.locator(`.cmp-count[data-run="${cont}"]`);
    const shown = async () => Number((await counter.textContent().catch(() => '0 /')).split('/')[0].replace(/\D/g, '')) || 0;
    await counter.waitFor({ timeout: 10000 });
    const first = await shown();
    await until(async () => (await shown()) >= Math.max(first, 6) + 5, { timeout: 60000, what: 'the counter moving with the events' });
    assert.strictEqual(await page.locator(`#compare-grid .cmp-row[data-run="${cont}"] .badge`).getAttribute('data-state'), 'running');

    // A run queued behind it says when its first preview comes (its preview_every).
    const late = await post({ ...BASE, data_dir: data, iterations: 3000, preview_every: 1000, checkpoint_every: 1000 });
    await page.goto(`${url}/#/runs/${encodeURIComponent(late)}`);
    await until(async () => /first preview comes at iteration 1,000\b.*every 1,000 iterations/.test(await page.locator('.preview-empty').textContent()),
      { timeout: 10000, what: 'when the first preview comes' });
    await api('POST', `/api/runs/${encodeURIComponent(late)}/stop`);

    await api('POST', `/api/runs/${encodeURIComponent(cont)}/stop`);
    await until(async () => (await stateOf(cont)) === 'stopped', { timeout: 60000, what: 'the continuation stopped' });
    // Its duration is its own: from its own start, not its source's.
    const info = (await api('GET', `/api/runs/${encodeURIComponent(cont)}`)).body.run;
    assert.ok(info.started >= info.created, `started ${info.started}, created ${info.created}`);
    await page.goto(`${url}/#/runs/${encodeURIComponent(soft)}`);
    await page.locator('#delete-run:not([disabled])').waitFor({ timeout: 10000 });
    assert.strictEqual(await page.locator('#delete-blocked').count(), 0);
  });

  await t.test('a run that failed for its weights says so in the page’s words, the trainer’s kept', async () => {
    await page.goto(`${url}/#/runs/${encodeURIComponent(failed)}`);
    const explained = page.locator('#failure-explained');
    await explained.waitFor({ timeout: 10000 });
    assert.match(await explained.textContent(),
      /No VGG-19 weights\. The VGG-19 weights file \S*missing-vgg19\.pth does not exist .*Run again… opens the wizard at the weights setting/);
    await until(async () => (await page.locator('#stderr-tail').count()) > 0, { timeout: 15000, what: 'the stderr tail' });
    const visible = await page.locator('#failure').innerText();
    assert.ok(!visible.includes('--vgg_weights'), `command-line advice on the page:\n${visible}`);
    const raw = page.locator('#failure-message');
    assert.match(await raw.textContent(), /--vgg_weights '\S*missing-vgg19\.pth' is not a file/);
    assert.ok(await raw.isHidden());
    await page.locator('#failure summary', { hasText: 'The trainer’s message' }).click();
    assert.ok(await raw.isVisible());
    await shot(page, 'after-failed-weights');
    const narrow = await newPage(browser, { width: 400, height: 900 });
    await narrow.goto(`${url}/#/runs/${encodeURIComponent(failed)}`);
    await narrow.locator('#failure-explained').waitFor();
    await shot(narrow, 'after-failed-weights-400');
    await narrow.close();
  });

  await t.test('a delete that worked says so on the runs list', async () => {
    await page.goto(`${url}/#/runs/${encodeURIComponent(failed)}`);
    await page.locator('#delete-run').click();
    await page.locator('dialog .btn-danger').click();
    await page.waitForURL(/#\/$/);
    const notice = page.locator('#runs-notice .callout');
    await notice.waitFor({ timeout: 10000 });
    assert.match(await notice.textContent(), new RegExp(`Deleted the run .*${failed}`));
    await until(async () => (await card(failed).count()) === 0, { timeout: 10000, what: 'the card gone' });
    assert.ok(!fs.existsSync(path.join(tmp, 'runs', failed)));
    assert.deepStrictEqual(page.errors, []);
  });
});
