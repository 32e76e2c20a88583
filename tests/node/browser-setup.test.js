'use strict';
// The browser tests on a machine without Chromium: they fail at once, say how to install it,
// and leave nothing running (once, a server started before the failed launch kept `npm test`
// waiting forever).
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

test('a missing Chromium fails the browser tests within a minute, naming the fix', () => {
  const started = Date.now();
  const env = { ...process.env, CHROMIUM: '/nonexistent/chromium' };
  delete env.NODE_TEST_CONTEXT; // else the inner `node --test` reports to this runner, and exits 0
  const r = spawnSync('npm', ['run', 'test:browser'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60000 });
  assert.strictEqual(r.error, undefined, `still running after 60 s: ${r.error}`);
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /apt install chromium/);
  assert.match(r.stdout + r.stderr, /CHROMIUM=/);
  assert.ok(Date.now() - started < 60000);
});
