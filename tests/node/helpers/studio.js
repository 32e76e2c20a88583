'use strict';
// Test helpers: a temp folder of photos, a TN Studio app on a free port with its own runs
// folder, socket.io clients, and a collector that waits for a run's events.
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { io } = require('socket.io-client');
const { createApp } = require('../../../app');
const { gradientPng } = require('./png');

function tempDir(prefix = 'tn-studio-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// {root, photos, runs, uploads}: 10 smooth 48x48 PNG photos, empty runs and uploads folders.
function makeWorkspace() {
  const root = tempDir();
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(photos, `photo_${i}.png`), gradientPng(48, i));
  return { root, photos, runs: path.join(root, 'runs'), uploads: path.join(root, 'uploads') };
}

// The tiny CPU run of the tests: ~20 it/s with a random VGG at 32 px.
function tinyConfig(photos, overrides = {}) {
  return {
    data_dir: photos, texture: 'stained_glass', iterations: 30, image_size: 32, style_size: 32, batch_size: 2,
    vgg_weights: 'random', workers: 0, preview_every: 10, checkpoint_every: 10, lr: 0.01, ...overrides,
  };
}

async function startStudio(ws, options = {}) {
  // One torch thread per trainer: on a small shared machine, torch's spinning threads slow
  // each other down a hundredfold when anything else runs.
  const env = { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS || '1' };
  const studio = createApp({ runsDir: ws.runs, uploadsDir: ws.uploads, env, ...options });
  const { port } = await studio.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  if (!options.noWait) await studio.worker.waitFor('up', 90000);
  const clients = [];
  return {
    studio,
    url,
    async api(method, route, body, headers = {}) {
      const init = { method, headers: { ...headers } };
      if (Buffer.isBuffer(body)) init.body = body;
      else if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers['Content-Type'] = 'application/json';
      }
      const res = await fetch(url + route, init);
      const type = res.headers.get('content-type') || '';
      const data = type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer());
      return { status: res.status, headers: res.headers, data };
    },
    // A browser-like socket.io client, connected.
    async client() {
      const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
      // sent on connection, possibly before the caller could listen
      socket.workerStatus = new Promise((resolve) => socket.once('worker_status', resolve));
      clients.push(socket);
      await new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return socket;
    },
    async close() {
      for (const socket of clients) socket.close();
      await studio.close();
    },
  };
}

// A port that refuses every connection, for as long as the test holds it: a listener of ours that
// destroys each connection at once. (A port freed to be "closed" can be taken by anyone meanwhile,
// and port 9 is not closed everywhere.)
async function refusingListener() {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref(); // never what keeps a test process alive
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// Everything a socket receives for one run, and a way to wait for a condition on it.
class RunStream {
  constructor(socket, run) {
    this.socket = socket;
    this.run = run;
    this.events = []; // {seq, event, image?}, as received
    this.waiters = [];
    this.onEvent = (msg) => {
      if (msg.run !== run) return;
      this.events.push({ seq: msg.seq, event: msg.event, image: msg.image, received: Date.now() / 1000 });
      this.check();
    };
    socket.on('run_event', this.onEvent);
  }

  subscribe(after = 0) {
    return this.socket.timeout(30000).emitWithAck('subscribe', { run: this.run, after });
  }

  get last() {
    return this.events.at(-1)?.seq ?? 0;
  }

  ofType(type) {
    return this.events.filter((e) => e.event.type === type);
  }

  check() {
    this.waiters = this.waiters.filter(({ predicate, resolve }) => !(predicate(this) && (resolve(), true)));
  }

  until(predicate, timeoutMs = 60000, what = 'the condition') {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} on run ${this.run}; ` +
        `last event ${JSON.stringify(this.events.at(-1)?.event)}`)), timeoutMs);
      this.waiters.push({ predicate, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  untilType(type, timeoutMs) {
    return this.until((s) => s.events.some((e) => e.event.type === type), timeoutMs, `a ${type} event`);
  }

  untilEnd(timeoutMs) {
    return this.until((s) => s.events.some((e) => ['done', 'error'].includes(e.event.type)), timeoutMs, 'the end');
  }

  close() {
    this.socket.off('run_event', this.onEvent);
  }
}

// Polls predicate (sync or async) until it is truthy; its value, or an error after timeoutMs.
async function waitUntil(predicate, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Waits for a message on a socket that satisfies predicate.
function nextMessage(socket, name, predicate = () => true, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(name, on);
      reject(new Error(`timed out waiting for ${name}`));
    }, timeoutMs);
    const on = (msg) => {
      if (!predicate(msg)) return;
      clearTimeout(timer);
      socket.off(name, on);
      resolve(msg);
    };
    socket.on(name, on);
  });
}

// The seqs are 1..n with no gap or duplicate.
function assertComplete(assert, events) {
  const seqs = events.map((e) => e.seq);
  assert.deepStrictEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'seq 1..n, no gap, no duplicate');
}

// One studio for a test file (a workspace, the app with its worker service, and the reference
// process pictures are checked against), started before its tests and removed after them; with
// the small steps its tests share. `s.t` may be replaced (a test that restarts the app).
function studioSuite({ before, after }) {
  const { startReference } = require('./reference');
  const assert = require('node:assert');
  const s = {
    ws: null,
    t: null, // the running studio: {url, api, client, studio}
    ref: null, // what files and pictures are checked against (helpers/reference.py)
    async startRun(overrides) {
      const res = await s.t.api('POST', '/api/runs', { config: tinyConfig(s.ws.photos, overrides) });
      assert.strictEqual(res.status, 201, JSON.stringify(res.data));
      return res.data.run;
    },
    runFolder: (id) => path.join(s.ws.runs, id),
    saved(bytes, name) { // a download, saved where the reference can read it
      const file = path.join(s.ws.root, name);
      fs.writeFileSync(file, bytes);
      return file;
    },
  };
  before(async () => {
    s.ws = makeWorkspace();
    s.ref = startReference(); // imports torch while the service starts
    s.t = await startStudio(s.ws);
  });
  after(async () => {
    if (s.t) await s.t.close();
    if (s.ref) await s.ref.close();
    if (process.env.TN_KEEP_TEST_DIRS) console.log(`kept ${s.ws.root}`);
    else fs.rmSync(s.ws.root, { recursive: true, force: true });
  });
  return s;
}

module.exports = { tempDir, makeWorkspace, tinyConfig, startStudio, studioSuite, refusingListener, RunStream, nextMessage, waitUntil, assertComplete };
