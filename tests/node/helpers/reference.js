'use strict';
// The reference the tests check pictures and model files against: helpers/reference.py, one
// Python process per test file (torch imported once), asked one JSON request at a time.
// Also `python()`: a command of the project's Python, run without blocking the event loop (a
// test's own server must keep answering meanwhile, see runPython).
const { spawn, execFile } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');

// Starts it; `await ref.ready` before the first check is optional (checks queue behind it).
function startReference() {
  const child = spawn(PYTHON, [path.join(__dirname, 'reference.py')], {
    cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const pending = [];
  let failed = null;
  const fail = (err) => {
    failed = err;
    while (pending.length) pending.shift().reject(err);
  };
  child.on('error', fail);
  child.on('exit', (code) => fail(new Error(`the reference process exited (${code})`)));
  let readyResolve;
  const ready = new Promise((resolve) => { readyResolve = resolve; });
  pending.push({ resolve: readyResolve, reject: readyResolve });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = pending.shift();
    if (!waiter) return;
    const answer = JSON.parse(line);
    if ('error' in answer) waiter.reject(new Error(`reference: ${answer.error}`));
    else waiter.resolve(answer.ok);
  });
  return {
    ready,
    // {kind, ...} (see reference.py) -> its answer.
    check(request) {
      if (failed) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        pending.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(request)}\n`);
      });
    },
    close() {
      if (child.exitCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      return exited;
    },
  };
}

// Runs the project's Python with args in the repository root; resolves with its stdout.
// Never execFileSync in a test that talks to its own server: a loop blocked for longer than the
// server's keep-alive timeout (5 s) lets the next request go out on a socket the server closes
// as soon as the loop runs again (`fetch failed`, ECONNRESET).
function python(args) {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

module.exports = { startReference, python, PYTHON, ROOT };
