'use strict';
// The supervisor's restarts, without a real service: a "python" that cannot run it.
const test = require('node:test');
const assert = require('node:assert');
const { Worker } = require('../../app/worker');

function statuses(worker, count) {
  const seen = [];
  return new Promise((resolve) => {
    worker.on('status', (status) => {
      seen.push(status);
      if (seen.filter((s) => s.state === 'down').length === count) resolve(seen);
    });
  });
}

test('a service that cannot start is retried with exponential backoff, capped, and says why', async () => {
  // node rejects `-m worker.service`: the process exits at once with a message on stderr
  const worker = new Worker({ python: process.execPath, cwd: __dirname, backoff: { initialMs: 40, maxMs: 160 } });
  const seen = statuses(worker, 5);
  worker.start();
  const downs = (await seen).filter((s) => s.state === 'down');
  await worker.stop();
  const delays = downs.map((s) => Number(s.message.match(/restarting in ([\d.]+) s/)[1]));
  assert.deepStrictEqual(delays, [0.04, 0.08, 0.16, 0.16, 0.16]);
  assert.match(downs[0].message, /exited with code \d+: .*bad option/);
  assert.ok((await seen).some((s) => s.state === 'starting'));
  assert.strictEqual(worker.status.state, 'down');
});

test('a missing interpreter is reported, and commands fail fast while the service is down', async () => {
  const worker = new Worker({ python: '/nonexistent/python', cwd: __dirname, backoff: { initialMs: 40, maxMs: 40 } });
  const seen = statuses(worker, 1);
  worker.start();
  const [down] = (await seen).filter((s) => s.state === 'down');
  assert.match(down.message, /could not start: spawn \/nonexistent\/python ENOENT/);
  await assert.rejects(worker.command('list_runs'), /not running/);
  await worker.stop();
});
