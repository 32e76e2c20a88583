'use strict';
// Which Chromium the browser tests drive (tests/browser/chromium.js): CHROMIUM= when set, else
// Debian's where installed, else the one `npm i` brings (@sparticuz/chromium). Without any, they
// fail at once, say how to get one, and leave nothing running (once, a server started before the
// failed launch kept `npm test` waiting forever).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { resolveChromium } = require('../browser/chromium');

const ROOT = path.resolve(__dirname, '..', '..');
const FIX = [/npm i/, /apt install chromium/, /CHROMIUM=/];
const noPackage = () => {
  const err = new Error("Cannot find module '@sparticuz/chromium'");
  err.code = 'MODULE_NOT_FOUND';
  throw err;
};

test('a missing Chromium fails the browser tests within a minute, naming the fix', () => {
  const started = Date.now();
  const env = { ...process.env, CHROMIUM: '/nonexistent/chromium' };
  delete env.NODE_TEST_CONTEXT; // else the inner `node --test` reports to this runner, and exits 0
  const r = spawnSync('npm', ['run', 'test:browser'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60000 });
  assert.strictEqual(r.error, undefined, `still running after 60 s: ${r.error}`);
  assert.notStrictEqual(r.status, 0);
  for (const words of [/CHROMIUM=\/nonexistent\/chromium is not an executable/, ...FIX]) assert.match(r.stdout + r.stderr, words);
  assert.ok(Date.now() - started < 60000);
});

test('no system Chromium and no npm one: refused at once, naming the fix', async () => {
  const err = await resolveChromium({ env: {}, system: '/nonexistent/chromium', requireResolve: noPackage })
    .then(() => null, (e) => e);
  assert.ok(err, 'resolved a Chromium that is not there');
  assert.match(err.message, /not at \/nonexistent\/chromium, and @sparticuz\/chromium is not installed/);
  for (const words of FIX) assert.match(err.message, words);
});

test('the choice: CHROMIUM=/path, else Debian\'s, else the npm one; CHROMIUM=npm forces it', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tn-chromium-'));
  try {
    const mine = path.join(tmp, 'my-chromium');
    const debian = path.join(tmp, 'debian-chromium');
    for (const f of [mine, debian]) fs.writeFileSync(f, '#!/bin/sh\n', { mode: 0o755 });
    const choose = (env) => resolveChromium({ env, system: debian, requireResolve: noPackage });
    assert.strictEqual((await choose({ CHROMIUM: mine })).executablePath, mine);
    assert.strictEqual((await choose({})).executablePath, debian);
    // Asked for the npm one without it: an error, not Debian's in its place.
    await assert.rejects(choose({ CHROMIUM: 'npm' }), /@sparticuz\/chromium is not installed/);
    // A CHROMIUM that is not executable: an error, not another browser in its place.
    fs.chmodSync(mine, 0o644);
    await assert.rejects(choose({ CHROMIUM: mine }), /is not an executable/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the npm Chromium, where nothing else is: unpacked once, it launches and draws text', { timeout: 120000 }, () => {
  // As on a machine without Debian's: the check .ci/run makes (a launch, a page, Intl, WebAssembly, a font).
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tests', 'browser', 'chromium.js')],
    { cwd: ROOT, env: { ...process.env, CHROMIUM: 'npm' }, encoding: 'utf8', timeout: 110000 });
  assert.strictEqual(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /@sparticuz\/chromium \d+\.\d+\.\d+/);
  assert.match(r.stdout, /node_modules\/\.cache\/tn-chromium\/[\d.]+\/chromium/);
});
