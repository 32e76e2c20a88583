'use strict';
// What the Live view needs from the server: onnxruntime-web's files served by the app itself
// (every file its browser build loads, byte for byte, with the types browsers require), nothing
// else of node_modules; no page naming an external URL (it must work offline); and the
// cross-origin isolation headers its WebAssembly threads need, on the page and what it loads.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { createApp, ROOT } = require('../../app');

const DIST = path.join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
const VENDOR = '/vendor/onnxruntime-web/';

// The app's Express handler on a free port; the worker service is never started (not needed here).
async function serve(t) {
  const studio = createApp({ workerUrl: 'http://127.0.0.1:1', workerToken: 'unused' });
  const server = http.createServer(studio.app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${server.address().port}`;
}

// The module the page imports (static/js/live-engine.js names it) and the files it loads in turn:
// its WebAssembly glue (named in it) and that glue's .wasm.
function ortFiles() {
  const engine = fs.readFileSync(path.join(ROOT, 'static', 'js', 'live-engine.js'), 'utf8');
  assert.match(engine, /const ORT_DIR = '\/vendor\/onnxruntime-web\/'/);
  const entry = engine.match(/import\(`\$\{ORT_DIR\}([\w.-]+)`\)/)[1];
  const glue = [...new Set(fs.readFileSync(path.join(DIST, entry), 'utf8').match(/ort-wasm-[\w.-]+?\.mjs/g))];
  assert.strictEqual(glue.length, 1, `${entry} loads one WebAssembly build: ${glue}`);
  return [entry, glue[0], glue[0].replace(/\.mjs$/, '.wasm')];
}

test('onnxruntime-web: every file the page loads is served from node_modules, with its type; nothing else is', async (t) => {
  const url = await serve(t);
  const files = ortFiles();
  for (const file of files) {
    const res = await fetch(`${url}${VENDOR}${file}`);
    assert.strictEqual(res.status, 200, file);
    // Module scripts need a JavaScript type; WebAssembly.instantiateStreaming needs application/wasm.
    assert.match(res.headers.get('content-type'), file.endsWith('.wasm') ? /^application\/wasm/ : /^text\/javascript/, file);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(fs.readFileSync(path.join(DIST, file))), `${file}: the npm file, byte for byte`);
  }
  const refused = [VENDOR, `${VENDOR}ort.all.min.mjs`, `${VENDOR}ort.min.mjs.map`, `${VENDOR}..%2fpackage.json`,
    `${VENDOR}%2e%2e/%2e%2e/onnxruntime-common/package.json`, '/vendor/onnxruntime-web', '/node_modules/onnxruntime-web/package.json'];
  for (const route of refused) {
    const res = await fetch(`${url}${route}`);
    assert.strictEqual(res.status, 404, route);
    assert.doesNotMatch(await res.text(), /"version"|<a |<li/, `${route}: no file, no listing`);
  }
});

test('no page names an external URL: everything is the app\'s own (offline)', () => {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else {
        // XML namespace names (the SVG one) are identifiers, never fetched.
        const text = fs.readFileSync(file, 'utf8').replaceAll('http://www.w3.org/2000/svg', '');
        for (const m of text.matchAll(/https?:\/\/[^\s'"`)]*/g)) found.push(`${path.relative(ROOT, file)}: ${m[0]}`);
      }
    }
  };
  walk(path.join(ROOT, 'static'));
  assert.deepStrictEqual(found, []);
});

test('cross-origin isolation: the page, its scripts, the API and onnxruntime-web all say COOP same-origin and COEP require-corp', async (t) => {
  const url = await serve(t);
  for (const route of ['/', '/index.html', '/js/live.js', '/css/app.css', '/api/protocol', `${VENDOR}ort.min.mjs`, '/api/nothing-here']) {
    const res = await fetch(`${url}${route}`);
    await res.arrayBuffer();
    assert.strictEqual(res.headers.get('cross-origin-opener-policy'), 'same-origin', route);
    assert.strictEqual(res.headers.get('cross-origin-embedder-policy'), 'require-corp', route);
  }
});
