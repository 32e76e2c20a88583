'use strict';
// Runs that fail, a worker service that dies, Node restarting: through Node and the real worker
// service, seen by socket.io clients as a browser sees them. One app (one service) for the file;
// each test starts the runs it needs. (Apart from training.test.js so that each file stays well
// within the per-file time limit on a busy 2-core machine, and the two run side by side on more.)
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startStudio, studioSuite, RunStream, nextMessage, waitUntil, assertComplete } = require('./helpers/studio');

describe('failures and restarts through Node', () => {
  const suite = studioSuite({ before, after });

  it('reports a trainer killed with kill -9 as failed, with exit code and stderr tail; its checkpoint still downloads', async () => {
    const c = await suite.t.client();
    const run = await suite.startRun({ iterations: 5000, checkpoint_every: 10, preview_every: 1000, device: 'cpu' });
    const s = new RunStream(c, run.id);
    await s.subscribe(0);
    await s.untilType('checkpoint', 120000);
    const pid = Number(fs.readFileSync(path.join(suite.runFolder(run.id), 'trainer.pid'), 'utf8').trim());
    assert.ok(pid > 1);
    const failed = nextMessage(c, 'run_state', (m) => m.run.id === run.id && m.run.state === 'failed', 60000);
    process.kill(pid, 'SIGKILL');
    const info = (await failed).run;
    assert.ok([-9, 137].includes(info.exit_code), `exit code ${info.exit_code}`);
    assert.strictEqual(typeof info.stderr_tail, 'string');
    assert.ok(info.stderr_tail.length > 0, 'the trainer output tail is kept');
    assert.ok(info.error, 'a failed run says why');
    await s.untilType('error', 30000);
    assertComplete(assert, s.events);
    assert.ok(info.checkpoints.length >= 1);
    const last = info.checkpoints.at(-1);
    const ckpt = await suite.t.api('GET', `/api/runs/${run.id}/files/${last.path}`);
    assert.strictEqual(ckpt.status, 200);
    assert.match(ckpt.headers.get('content-disposition'), /^attachment; filename="?[\w.-]+-iter_\d+\.pth"?$/);
    // the trainer's file as written, and whole: it loads, at its iteration, with all a resume needs
    assert.ok(ckpt.data.equals(fs.readFileSync(path.join(suite.runFolder(run.id), last.path))), 'the download is the checkpoint file');
    const record = await suite.ref.check({ kind: 'record', path: suite.saved(ckpt.data, 'killed.pth') });
    assert.strictEqual(record.iteration, last.iteration);
    assert.strictEqual(last.iteration % 10, 0);
    for (const key of ['state_dict', 'optimizer', 'scheduler', 'rng', 'config']) assert.ok(record.keys.includes(key), `${key} in ${record.keys}`);
  });

  it('recovers from kill -9 of the worker service: down then up, the running run streams on without a gap', async () => {
    const before = (await suite.t.api('GET', '/api/runs')).data.runs;
    const c = await suite.t.client();
    const statuses = [];
    c.on('worker_status', (st) => statuses.push(st.state));
    const run = await suite.startRun({ iterations: 150, checkpoint_every: 50, preview_every: 50 });
    const s = new RunStream(c, run.id);
    const finished = nextMessage(c, 'run_state', (m) => m.run.id === run.id && !['queued', 'running'].includes(m.run.state), 240000);
    await s.subscribe(0);
    await s.until((x) => x.ofType('iteration').length >= 10, 120000, '10 iterations');
    const oldPid = suite.t.studio.worker.pid;
    const down = nextMessage(c, 'worker_status', (st) => st.state === 'down', 30000);
    process.kill(oldPid, 'SIGKILL');
    await down;
    await nextMessage(c, 'worker_status', (st) => st.state === 'up', 60000);
    assert.notStrictEqual(suite.t.studio.worker.pid, oldPid);
    assert.ok(statuses.indexOf('down') < statuses.lastIndexOf('up'));

    await s.untilEnd(180000);
    assertComplete(assert, s.events);
    assert.deepStrictEqual(s.ofType('iteration').map((e) => e.event.iteration), Array.from({ length: 150 }, (_, i) => i + 1));
    assert.strictEqual(s.ofType('done')[0].event.stopped, false);
    assert.strictEqual((await finished).run.state, 'done');
    const after = (await suite.t.api('GET', '/api/runs')).data.runs;
    for (const r of before) {
      assert.strictEqual(after.find((x) => x.id === r.id)?.state, r.state, `run ${r.id} still listed as ${r.state}`);
    }
    assert.ok(after.find((x) => x.id === run.id));
  });

  it('lists the earlier runs with their states after Node restarts on the same runs folder', async () => {
    // Its own runs, one of each ended state: failed (its trainer killed), done, stopped (while queued).
    const c = await suite.t.client();
    const killed = await suite.startRun({ iterations: 5000, checkpoint_every: 1000, preview_every: 1000, device: 'cpu' });
    // all on the CPU, one at a time: the third is still queued when it is stopped (and were it
    // running, a stop would end it stopped all the same)
    const done = await suite.startRun({ iterations: 3, checkpoint_every: 3, preview_every: 3, device: 'cpu' });
    const stopped = await suite.startRun({ iterations: 5000, device: 'cpu' });
    const ended = (id) => nextMessage(c, 'run_state', (m) => m.run.id === id && ['done', 'stopped', 'failed'].includes(m.run.state), 180000);
    const ends = [killed, done, stopped].map((r) => ended(r.id));
    assert.strictEqual((await suite.t.api('POST', `/api/runs/${stopped.id}/stop`)).status, 200);
    // killed as soon as it is started (its pid written): no need to wait for it to train
    const pidFile = path.join(suite.runFolder(killed.id), 'trainer.pid');
    const pid = await waitUntil(() => fs.existsSync(pidFile) && Number(fs.readFileSync(pidFile, 'utf8').trim()), 60000, 'the trainer\'s pid');
    process.kill(pid, 'SIGKILL');
    assert.deepStrictEqual((await Promise.all(ends)).map((m) => m.run.state), ['failed', 'done', 'stopped']);

    const before = (await suite.t.api('GET', '/api/runs')).data.runs;
    const states = (runs) => Object.fromEntries(runs.map((r) => [r.id, r.state]));
    assert.deepStrictEqual([killed, done, stopped].map((r) => states(before)[r.id]), ['failed', 'done', 'stopped']);
    await suite.t.close();
    suite.t = null;
    suite.t = await startStudio(suite.ws);
    const now = (await suite.t.api('GET', '/api/runs')).data.runs;
    assert.deepStrictEqual(states(now), states(before));
    assert.deepStrictEqual([killed, done, stopped].map((r) => states(now)[r.id]), ['failed', 'done', 'stopped']);
  });
});
