'use strict';
// One worker service process: spawned, its port read from the first stdout line, its
// output forwarded to ours with a prefix.
const { spawn } = require('node:child_process');
const readline = require('node:readline');

const TAIL_LINES = 20;

// Resolves with {port, pid} once the service has printed its first line; rejects if it exits
// (or stays silent for startTimeoutMs) first. `exited` resolves with {code, signal} in every case.
function spawnService({ python, cwd, args, env, prefix = '[worker] ', startTimeoutMs = 120000 }) {
  const child = spawn(python, ['-m', 'worker.service', ...args], {
    cwd,
    env,
    // stdin stays open and unused: the service exits when it closes, i.e. when we die.
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so a Ctrl-C in our terminal reaches only us; we then stop the
    // service once, with SIGTERM, and wait for it to stop its trainers.
    detached: true,
  });
  child.stdin.on('error', () => {}); // EPIPE after the service exited: nothing to do
  const tail = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    process.stderr.write(prefix + line + '\n');
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  });

  const stderrEnded = new Promise((resolve) => child.stderr.once('close', resolve));
  const exited = new Promise((resolve) => {
    // The last stderr lines (the reason it died) may still be in the pipe at 'exit'.
    const settle = (how) => Promise.race([stderrEnded, delay(500)]).then(() => resolve(how));
    child.once('exit', (code, signal) => settle({ code, signal }));
    child.once('error', (err) => settle({ code: null, signal: null, error: err }));
  });

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker service printed nothing in ${startTimeoutMs / 1000}s`)),
      startTimeoutMs);
    let first = true;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (!first) return void process.stderr.write(prefix + line + '\n');
      first = false;
      clearTimeout(timer);
      try {
        const { port, pid } = JSON.parse(line);
        if (!Number.isInteger(port)) throw new Error('no port');
        resolve({ port, pid });
      } catch {
        reject(new Error(`the worker service's first line is not {"port": N, "pid": P}: ${line.slice(0, 200)}`));
      }
    });
    exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(describeExit(how, tail)));
    });
  });
  ready.catch(() => {}); // the caller may only look at `exited`

  return { child, ready, exited, describeExit: (how) => describeExit(how, tail) };
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function describeExit({ code, signal, error }, tail) {
  if (error) return `the worker service could not start: ${error.message}`;
  const last = tail.filter((l) => l.trim()).at(-1);
  return `the worker service ${signal ? `was killed by ${signal}` : `exited with code ${code}`}` +
    (last ? `: ${last.trim()}` : '');
}

// SIGTERM (the service stops its trainers gracefully), SIGKILL if it takes longer than timeoutMs.
async function terminate(proc, timeoutMs) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
  proc.child.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs, 'late'); });
  if (await Promise.race([proc.exited, late]) === 'late') proc.child.kill('SIGKILL');
  clearTimeout(timer);
  return proc.exited;
}

module.exports = { spawnService, terminate };
