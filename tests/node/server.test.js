'use strict';
// `node server` as a user runs it: the URL it prints, the UI, the worker service it spawns,
// which stops with it, whether Node is stopped with SIGTERM or killed.
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { tempDir, makeWorkspace, tinyConfig, refusingListener } = require('./helpers/studio');

const ROOT = path.resolve(__dirname, '..', '..');

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(predicate, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The addresses a process listens on (Linux: its socket inodes, looked up in /proc/net/tcp*).
function listeningAddresses(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const out = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A' || !inodes.has(cols[9])) continue; // 0A: LISTEN
      const [hex, port] = cols[1].split(':');
      const ip = table === 'tcp' ? hex.match(/../g).reverse().map((b) => parseInt(b, 16)).join('.') : hex;
      out.push(`${ip}:${parseInt(port, 16)}`);
    }
  }
  return out;
}

// Starts `node server` on a free port with its own runs folder; resolves once the worker is up.
async function startServer(dir) {
  const child = spawn(process.execPath, ['server.js'], {
    cwd: ROOT,
    env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS || '1', PORT: '0', TN_RUNS_DIR: path.join(dir, 'runs'), TN_UPLOADS_DIR: path.join(dir, 'uploads') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const server = { child, exited, stderr: '' };
  child.stderr.on('data', (d) => { server.stderr += d; });
  server.url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/localhost:(\d+)/);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    exited.then(({ code }) => reject(new Error(`server exited ${code}: ${server.stderr}`)));
  });
  await until(async () => (await (await fetch(server.url + '/api/health')).json()).worker.state === 'up', 60000, 'the worker');
  // the worker service is Node's child (Linux: /proc lists it)
  const childrenFile = `/proc/${child.pid}/task/${child.pid}/children`;
  server.workerPids = fs.existsSync(childrenFile)
    ? fs.readFileSync(childrenFile, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
  return server;
}

test('node server listens on 127.0.0.1, serves the UI, spawns the worker, and on SIGTERM stops it after its trainers checkpoint', async () => {
  const dir = tempDir();
  const cleanups = [];
  let server;
  try {
    server = await startServer(dir);
    const page = await fetch(server.url + '/');
    assert.strictEqual(page.status, 200);
    assert.match(await page.text(), /TN Studio/);
    assert.deepStrictEqual(await (await fetch(server.url + '/api/health')).json(), { ok: true, worker: { state: 'up' } });
    assert.deepStrictEqual(await (await fetch(server.url + '/api/runs')).json(), { runs: [], queue: [] });
    assert.ok(fs.existsSync(path.join(dir, 'runs')), 'TN_RUNS_DIR reaches the worker');
    assert.strictEqual(server.workerPids.length, 1);
    // Both servers listen on the loopback interface only.
    const port = new URL(server.url).port;
    assert.deepStrictEqual(listeningAddresses(server.child.pid), [`127.0.0.1:${port}`]);
    const workerListens = listeningAddresses(server.workerPids[0]);
    assert.strictEqual(workerListens.length, 1);
    assert.match(workerListens[0], /^127\.0\.0\.1:\d+$/);

    // a run in progress is stopped gracefully, with a checkpoint, before Node exits
    const ws = makeWorkspace();
    cleanups.push(() => fs.rmSync(ws.root, { recursive: true, force: true }));
    const created = await fetch(server.url + '/api/runs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ config: tinyConfig(ws.photos, { iterations: 5000, checkpoint_every: 1000, preview_every: 1000, device: 'cpu' }) }),
    });
    assert.strictEqual(created.status, 201);
    const { run } = await created.json();
    await until(async () => (await (await fetch(`${server.url}/api/runs/${run.id}`)).json()).run.iteration >= 3, 60000, 'training');
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    assert.strictEqual(code, 0, server.stderr);
    for (const pid of server.workerPids) assert.ok(!alive(pid), `worker ${pid} stopped with Node`);
    const events = fs.readFileSync(path.join(dir, 'runs', run.id, 'events.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
    assert.deepStrictEqual(events.at(-1).type, 'done');
    assert.strictEqual(events.at(-1).stopped, true);
    assert.ok(events.some((e) => e.type === 'checkpoint' && e.iteration === events.at(-1).iteration));
    assert.ok(fs.existsSync(path.join(dir, 'runs', run.id, 'model.pth')));
  } finally {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    for (const cleanup of cleanups) cleanup();
  }
});

test('the worker service exits when Node is killed with kill -9 (its stdin closes)', async () => {
  const dir = tempDir();
  let server;
  try {
    server = await startServer(dir);
    assert.strictEqual(server.workerPids.length, 1);
    server.child.kill('SIGKILL');
    await server.exited;
    await until(() => !alive(server.workerPids[0]), 20000, `worker ${server.workerPids[0]} to exit`);
  } finally {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    for (const pid of server?.workerPids ?? []) if (alive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// `node server` with these variables (and none of the caller's HOST, ALLOWED_HOSTS, WORKER_*):
// {child, exited, out(): stdout + stderr so far}.
function spawnServer(dir, vars) {
  const env = { ...process.env, OMP_NUM_THREADS: '1', PORT: '0', TN_RUNS_DIR: path.join(dir, 'runs'), TN_UPLOADS_DIR: path.join(dir, 'uploads') };
  for (const name of ['HOST', 'ALLOWED_HOSTS', 'WORKER_URL', 'WORKER_TOKEN']) delete env[name];
  const child = spawn(process.execPath, ['server.js'], { cwd: ROOT, env: { ...env, ...vars }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, out: () => out };
}

// GET with any Host header: {status, body}.
function getAs(port, host, route = '/') {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: route, headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test('HOST=0.0.0.0 (or ::) without ALLOWED_HOSTS: node server refuses to start, at once, saying to set ALLOWED_HOSTS', async () => {
  for (const host of ['0.0.0.0', '::']) {
    const dir = tempDir();
    const server = spawnServer(dir, { HOST: host });
    const killer = setTimeout(() => server.child.kill('SIGKILL'), 20000);
    try {
      const { code, signal } = await server.exited;
      assert.strictEqual(signal, null, `HOST=${host}: still running after 20 s: ${server.out()}`);
      assert.notStrictEqual(code, 0, server.out());
      assert.match(server.out(), new RegExp(`HOST=${host} opens TN Studio to your network\\. Set ALLOWED_HOSTS`));
      assert.doesNotMatch(server.out(), /TN Studio: http/);
      assert.ok(!fs.existsSync(path.join(dir, 'runs')), 'no worker service was started');
    } finally {
      clearTimeout(killer);
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('HOST=0.0.0.0 with ALLOWED_HOSTS: node server listens on every interface, answers those names and its own, no other', async () => {
  const dir = tempDir();
  const nowhere = await refusingListener(); // WORKER_URL: no service is needed to answer Host checks
  const server = spawnServer(dir, { HOST: '0.0.0.0', ALLOWED_HOSTS: 'studio.lan,192.0.2.7', WORKER_URL: nowhere.url, WORKER_TOKEN: 'x' });
  try {
    const port = await new Promise((resolve, reject) => {
      server.child.stdout.on('data', () => {
        const m = server.out().match(/TN Studio: http:\/\/localhost:(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      server.exited.then(({ code }) => reject(new Error(`server exited ${code}: ${server.out()}`)));
    });
    assert.deepStrictEqual(listeningAddresses(server.child.pid), [`0.0.0.0:${port}`]);
    for (const host of [`studio.lan:${port}`, '192.0.2.7', `localhost:${port}`]) assert.strictEqual((await getAs(port, host)).status, 200, host);
    for (const host of [`evil.example:${port}`, `studio.lan.evil.example:${port}`, `192.0.2.7.nip.io:${port}`]) {
      const res = await getAs(port, host);
      assert.strictEqual(res.status, 403, host);
      assert.match(res.body, /answers only to its own names/);
    }
    server.child.kill('SIGTERM');
    assert.deepStrictEqual(await server.exited, { code: 0, signal: null }, server.out());
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await nowhere.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
