'use strict';
// The worker service, seen from Node: one socket.io connection (commands with acks, run
// events in), an authenticated HTTP base for file downloads, and a status.
// Spawn mode supervises the process: restarted with exponential backoff whenever it exits or
// stops answering. URL mode (WORKER_URL + WORKER_TOKEN) only reconnects.
const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const { EventEmitter } = require('node:events');
const { io } = require('socket.io-client');
const { COMMANDS, MESSAGE, STOP_TIMEOUT_S, WORKER } = require('./protocol');
const { spawnService, terminate } = require('./worker-process');

const BACKOFF = { initialMs: 500, maxMs: 10000, stableMs: 30000 };
const CONNECT_GRACE_MS = 15000; // a live process we cannot (re)connect to for this long is restarted
// The service waits this long for its trainers to checkpoint; Node gives it half as long again.
const STOP_TIMEOUT_MS = STOP_TIMEOUT_S * 1500;

class WorkerUnavailable extends Error {}
class WorkerTimeout extends Error {}

class Worker extends EventEmitter {
  constructor({ url, token, python, cwd, runsDir, uploadsDir, env = process.env, backoff = {} } = {}) {
    super();
    this.url = url || null;
    this.token = url ? token : crypto.randomBytes(32).toString('hex');
    this.spawnOptions = { python, cwd, runsDir, uploadsDir, env };
    this.backoff = { ...BACKOFF, ...backoff };
    this.status = { state: WORKER.starting, message: 'starting the worker service' };
    this.socket = null;
    this.httpBase = url || null;
    this.proc = null; // the spawned service, in spawn mode
    this.pid = null;
    this.stopping = false;
    this.wake = null; // cuts a backoff sleep short on stop()
  }

  start() {
    if (this.loop) return;
    if (this.url) this.loop = this.follow();
    else this.loop = this.supervise();
  }

  get up() {
    return this.status.state === WORKER.up && !!this.socket?.connected;
  }

  setStatus(state, message) {
    if (this.status.state === state && this.status.message === message) return;
    this.status = message ? { state, message } : { state };
    this.emit('status', this.status);
  }

  // Resolves when the status is `state` (now or later); for tests and the benchmark.
  waitFor(state, timeoutMs = 60000) {
    if (this.status.state === state) return Promise.resolve(this.status);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('status', check);
        reject(new Error(`worker not ${state} after ${timeoutMs / 1000}s (${JSON.stringify(this.status)})`));
      }, timeoutMs);
      const check = (status) => {
        if (status.state !== state) return;
        clearTimeout(timer);
        this.off('status', check);
        resolve(status);
      };
      this.on('status', check);
    });
  }

  // A command's ack ({ok, ...}). Rejects with WorkerUnavailable when there is no connection,
  // or when it drops before the ack (an ack can never arrive then), WorkerTimeout otherwise.
  command(name, payload = {}, timeoutMs = 30000) {
    if (!COMMANDS.includes(name)) throw new Error(`unknown worker command ${name}`);
    const socket = this.socket;
    if (!this.up) {
      return Promise.reject(new WorkerUnavailable(`the worker service is not running (${this.status.state})`));
    }
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        socket.off('disconnect', dropped);
      };
      const dropped = () => {
        finish();
        reject(new WorkerUnavailable(`the worker service went away during ${name}`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new WorkerTimeout(`the worker service did not answer ${name} in ${timeoutMs / 1000}s`));
      }, timeoutMs);
      socket.once('disconnect', dropped);
      socket.emit(name, payload, (ack) => {
        finish();
        resolve(ack && typeof ack === 'object' ? ack : { ok: false, error: `malformed answer to ${name}` });
      });
    });
  }

  // GET a path of the service's HTTP side with the token; resolves with the response stream.
  httpGet(pathname) {
    if (!this.up || !this.httpBase) {
      return Promise.reject(new WorkerUnavailable(`the worker service is not running (${this.status.state})`));
    }
    const url = new URL(pathname, this.httpBase);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = client.get(url, { headers: { Authorization: `Bearer ${this.token}` } }, resolve);
      req.on('error', (err) => reject(new WorkerUnavailable(`the worker service: ${err.message}`)));
    });
  }

  connect(url, reconnection) {
    const socket = io(url, {
      auth: { token: this.token },
      transports: ['websocket'],
      forceNew: true,
      reconnection,
      reconnectionDelay: this.backoff.initialMs,
      reconnectionDelayMax: this.backoff.maxMs,
      timeout: 10000,
    });
    for (const name of [MESSAGE.run_event, MESSAGE.run_state, MESSAGE.run_deleted, MESSAGE.run_reset]) {
      socket.on(name, (msg) => this.emit(name, msg));
    }
    socket.on('disconnect', (reason) => {
      // A server-side disconnect is not retried by socket.io itself.
      if (reason === 'io server disconnect' && !this.stopping) setTimeout(() => socket.connect(), this.backoff.initialMs);
    });
    return socket;
  }

  // WORKER_URL: someone else runs the service; we only keep a connection to it.
  follow() {
    const socket = this.connect(this.url, true);
    this.socket = socket;
    this.setStatus(WORKER.starting, `connecting to ${this.url}`);
    socket.on('connect', () => this.setStatus(WORKER.up));
    socket.on('disconnect', () => {
      if (!this.stopping) this.setStatus(WORKER.down, `lost the connection to ${this.url}; reconnecting`);
    });
    socket.on('connect_error', (err) => {
      if (!this.stopping) this.setStatus(WORKER.down, `cannot connect to ${this.url}: ${err.message}; retrying`);
    });
  }

  async supervise() {
    let delayMs = this.backoff.initialMs;
    while (!this.stopping) {
      this.setStatus(WORKER.starting, 'starting the worker service');
      const upSince = { at: null };
      const reason = await this.runOnce(upSince);
      if (this.stopping) break;
      if (upSince.at && Date.now() - upSince.at > this.backoff.stableMs) delayMs = this.backoff.initialMs;
      this.setStatus(WORKER.down, `${reason}; restarting in ${delayMs / 1000} s`);
      await new Promise((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, delayMs);
      });
      this.wake = null;
      delayMs = Math.min(delayMs * 2, this.backoff.maxMs);
    }
  }

  // Spawns one service and keeps it connected; resolves with why it ended.
  async runOnce(upSince) {
    const { python, cwd, runsDir, uploadsDir, env } = this.spawnOptions;
    // --exit-with-stdin: the service then exits (stopping its trainers) when we die, even by
    // kill -9, instead of living on beside the next Node's service.
    const args = ['--port', '0', '--host', '127.0.0.1', '--exit-with-stdin'];
    args.push('--runs', runsDir, '--uploads', uploadsDir);
    const proc = spawnService({
      python, cwd, args, env: { ...env, TN_WORKER_TOKEN: this.token, PYTHONUNBUFFERED: '1' },
    });
    this.proc = proc;
    let socket = null;
    try {
      const { port, pid } = await proc.ready;
      this.pid = pid;
      this.httpBase = `http://127.0.0.1:${port}`;
      if (this.stopping) return 'stopping';
      socket = this.connect(this.httpBase, true);
      this.socket = socket;
      return await new Promise((resolve) => {
        // Started at once: covers the first connection as well as reconnections.
        let grace = setTimeout(() => resolve('the worker service did not accept our connection'), CONNECT_GRACE_MS);
        socket.on('connect', () => {
          clearTimeout(grace);
          upSince.at = Date.now();
          this.setStatus(WORKER.up);
        });
        socket.on('disconnect', () => {
          if (this.stopping) return;
          this.setStatus(WORKER.down, 'lost the connection to the worker service; reconnecting');
          clearTimeout(grace);
          grace = setTimeout(() => resolve('the worker service stopped answering'), CONNECT_GRACE_MS);
        });
        proc.exited.then((how) => {
          clearTimeout(grace);
          resolve(proc.describeExit(how));
        });
      });
    } catch (err) {
      return err.message;
    } finally {
      if (socket) socket.close();
      if (this.socket === socket) this.socket = null;
      if (!this.stopping && proc.child.exitCode === null && proc.child.signalCode === null) {
        // A hung service is killed outright, not asked to stop: its trainers (in their own
        // sessions) keep training, and the next service re-attaches to them.
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    }
  }

  // Node is shutting down: the service stops its trainers gracefully, and we wait for it.
  async stop() {
    this.stopping = true;
    if (this.wake) this.wake();
    if (this.socket) this.socket.close();
    if (this.proc) await terminate(this.proc, STOP_TIMEOUT_MS);
    await this.loop;
    this.setStatus(WORKER.down, 'stopped');
  }
}

module.exports = { Worker, WorkerUnavailable, WorkerTimeout };
