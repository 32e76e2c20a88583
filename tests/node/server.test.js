'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

test('node server listens on 127.0.0.1 and serves the UI', async () => {
  const child = spawn(process.execPath, ['server.js'], { cwd: ROOT, env: { ...process.env, PORT: '0' } });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/http:\/\/localhost:(\d+)/);
        if (m) resolve(`http://127.0.0.1:${m[1]}`);
      });
      child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const page = await fetch(url + '/');
    assert.strictEqual(page.status, 200);
    assert.match(await page.text(), /TN Studio/);
    const health = await (await fetch(url + '/api/health')).json();
    assert.deepStrictEqual(health, { ok: true });
  } finally {
    child.kill();
  }
});
