'use strict';
// A run trained from the command line into the runs folder, as the README shows, is a run of the
// web app: listed, followed live over socket.io, its files served, stopped, stylized, exported,
// continued and deleted through the API. Real app, real worker service, real trainer.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { makeWorkspace, startStudio, RunStream, waitUntil } = require('./helpers/studio');
const { PYTHON, ROOT } = require('./helpers/reference');
const { gradientPng } = require('./helpers/png');

const TINY = ['--image_size', '32', '--style_size', '32', '--batch_size', '2', '--vgg_weights', 'random',
  '--workers', '0', '--lr', '0.01', '--device', 'cpu', '--preview_every', '5', '--checkpoint_every', '5'];

function trainFromTheCommandLine(ws, out, iterations) {
  const child = spawn(PYTHON, ['-m', 'worker.train', '--data_dir', ws.photos,
    '--texture', path.join(ROOT, 'samples', 'textures', 'stained_glass.jpg'), '--out', path.join(ws.runs, out),
    '--iterations', String(iterations), ...TINY], { cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderrText = '';
  child.stderr.on('data', (d) => { child.stderrText += d; });
  child.exited = new Promise((resolve) => child.on('exit', resolve));
  return child;
}

describe('a command-line run in the web app', () => {
  let ws;
  let t;
  let trainer;
  before(async () => {
    ws = makeWorkspace();
    fs.mkdirSync(ws.runs);
    t = await startStudio(ws);
  });
  after(async () => {
    trainer?.kill('SIGKILL');
    await t?.close();
    fs.rmSync(ws.root, { recursive: true, force: true });
  });

  it('is listed and followed live while it trains, and stops from the app', async () => {
    trainer = trainFromTheCommandLine(ws, 'from-a-terminal', 100000);
    const listed = await waitUntil(async () => (await t.api('GET', '/api/runs')).data.runs.find((r) => r.id === 'from-a-terminal'),
      120000, 'the command-line run in the runs list');
    assert.strictEqual(listed.origin, 'cli');
    assert.strictEqual(listed.texture, 'stained_glass');
    const socket = await t.client();
    const stream = new RunStream(socket, 'from-a-terminal');
    assert.ok((await stream.subscribe()).ok);
    await stream.until((s) => s.ofType('preview').length >= 1 && s.ofType('iteration').length >= 6, 180000, 'a preview and 6 iterations');
    const seqs = stream.events.map((e) => e.seq);
    assert.deepStrictEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'seq 1..n, no gap, no duplicate');
    const preview = await t.api('GET', `/api/runs/from-a-terminal/files/${stream.ofType('preview')[0].event.path}`);
    assert.strictEqual(preview.status, 200);
    assert.deepStrictEqual(preview.data, fs.readFileSync(path.join(ws.runs, 'from-a-terminal', stream.ofType('preview')[0].event.path)));
    assert.strictEqual((await t.api('GET', '/api/runs/from-a-terminal')).data.run.state, 'running');

    const stop = await t.api('POST', '/api/runs/from-a-terminal/stop');
    assert.strictEqual(stop.status, 200, JSON.stringify(stop.data));
    assert.strictEqual(await trainer.exited, 0, trainer.stderrText.slice(-2000));
    await stream.untilType('done', 60000);
    const info = await waitUntil(async () => {
      const r = (await t.api('GET', '/api/runs/from-a-terminal')).data.run;
      return r.state === 'stopped' && r;
    }, 30000, 'the stopped state');
    assert.ok(info.checkpoints.length >= 1 && info.model === 'model.pth', JSON.stringify(info));
  });

  it('tells its subscribers when a command-line --resume replaces its log, and streams the new one from seq 1', async () => {
    const socket = await t.client();
    const stream = new RunStream(socket, 'from-a-terminal');
    const resets = []; // how many events the client held when each run_reset came
    socket.on('run_reset', (msg) => msg.run === 'from-a-terminal' && resets.push(stream.events.length));
    assert.ok((await stream.subscribe()).ok);
    await stream.untilType('done', 60000);
    const last = (await t.api('GET', '/api/runs/from-a-terminal')).data.run.checkpoints.at(-1).iteration;
    const resume = spawn(PYTHON, ['-m', 'worker.train', '--resume', path.join(ws.runs, 'from-a-terminal'),
      '--iterations', String(last + 3)], { cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: 'ignore' });
    assert.strictEqual(await new Promise((resolve) => resume.on('exit', resolve)), 0);
    await waitUntil(() => resets.length === 1, 60000, 'the run_reset');
    await stream.until((s) => s.events.length > resets[0] && s.events.at(-1).event.type === 'done', 60000, 'the new log');
    const file = fs.readFileSync(path.join(ws.runs, 'from-a-terminal', 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map(JSON.parse);
    const fresh = stream.events.slice(resets[0]);
    assert.deepStrictEqual(fresh.map((e) => e.seq), file.map((_, i) => i + 1), 'the new log from seq 1, no gap');
    assert.deepStrictEqual(fresh.map((e) => e.event), file);
    assert.strictEqual(fresh.filter((e) => e.event.type === 'iteration').at(-1).event.iteration, last + 3);
    stream.close();
  });

  it('is stylized, exported, continued and deleted like the app’s own runs', async () => {
    const photo = gradientPng(40, 3);
    const stylized = await t.api('POST', '/api/stylize?run=from-a-terminal&noise=0', photo);
    assert.strictEqual(stylized.status, 200, String(stylized.data));
    assert.strictEqual(stylized.data.subarray(1, 4).toString(), 'PNG');
    const onnx = await t.api('GET', '/api/runs/from-a-terminal/export?format=onnx');
    assert.strictEqual(onnx.status, 200, String(onnx.data));
    assert.ok(onnx.data.length > 10000);

    const source = (await t.api('GET', '/api/runs/from-a-terminal')).data.run;
    const last = source.checkpoints.at(-1).iteration;
    const more = await t.api('POST', '/api/runs/from-a-terminal/continue', { iterations: last + 4 });
    assert.strictEqual(more.status, 201, JSON.stringify(more.data));
    const next = more.data.run;
    assert.deepStrictEqual(next.resumed_from, { run: 'from-a-terminal', iteration: last });
    await waitUntil(async () => (await t.api('GET', `/api/runs/${next.id}`)).data.run.state === 'done', 180000, 'the continued run');
    const done = (await t.api('GET', `/api/runs/${next.id}`)).data.run;
    assert.strictEqual(done.iteration, last + 4);
    assert.strictEqual(done.origin, 'app');

    const gone = await t.api('DELETE', '/api/runs/from-a-terminal');
    assert.strictEqual(gone.status, 204, JSON.stringify(gone.data));
    assert.ok(!fs.existsSync(path.join(ws.runs, 'from-a-terminal')));
    const ids = (await t.api('GET', '/api/runs')).data.runs.map((r) => r.id);
    assert.ok(!ids.includes('from-a-terminal') && ids.includes(next.id));
  });
});
