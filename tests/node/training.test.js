'use strict';
// Training runs through Node and the real worker service, seen by socket.io clients as a
// browser sees them. One app (one service) for the file; the tests run in order and each
// starts its own tiny CPU run.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { studioSuite, RunStream, nextMessage, assertComplete } = require('./helpers/studio');

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe('training through Node', () => {
  const suite = studioSuite({ before, after });

  it('streams every event of a run in order (iterations, binary previews, checkpoints, done) to two clients', async () => {
    const a = await suite.t.client();
    const b = await suite.t.client();
    const doneState = nextMessage(a, 'run_state', (m) => ['done', 'failed'].includes(m.run.state));
    const run = await suite.startRun();
    assert.ok(['queued', 'running'].includes(run.state));
    const streams = [new RunStream(a, run.id), new RunStream(b, run.id)];
    for (const s of streams) assert.strictEqual((await s.subscribe(0)).ok, true);
    await Promise.all(streams.map((s) => s.untilEnd(180000)));

    const [sa, sb] = streams;
    assertComplete(assert, sa.events);
    const iterations = sa.ofType('iteration').map((e) => e.event.iteration);
    assert.deepStrictEqual(iterations, Array.from({ length: 30 }, (_, i) => i + 1));
    for (const e of sa.ofType('iteration')) {
      for (const field of ['style', 'content', 'total', 'lr', 'time']) assert.strictEqual(typeof e.event[field], 'number');
    }
    const previews = sa.ofType('preview');
    assert.deepStrictEqual(previews.map((e) => e.event.iteration), [10, 20, 30]);
    // An event names its preview's file; the bytes are fetched once, by the pages that show them.
    assert.ok(previews.every((p) => p.image === undefined && /^previews\/.+\.png$/.test(p.event.path)));
    assert.deepStrictEqual(sa.ofType('checkpoint').map((e) => e.event.iteration), [10, 20, 30]);
    const done = sa.ofType('done')[0].event;
    assert.strictEqual(done.stopped, false);
    assert.strictEqual(done.iteration, 30);
    assert.strictEqual(sa.events.at(-1).event.type, 'done');
    // the second client saw exactly the same stream
    assert.deepStrictEqual(sb.events.map((e) => [e.seq, e.event]), sa.events.map((e) => [e.seq, e.event]));

    assert.strictEqual((await doneState).run.state, 'done');
    const info = (await suite.t.api('GET', `/api/runs/${run.id}`)).data.run;
    assert.strictEqual(info.state, 'done');
    assert.strictEqual(info.iteration, 30);
    assert.strictEqual(info.model, 'model.pth');
    // the history over HTTP is the same series
    const history = (await suite.t.api('GET', `/api/runs/${run.id}/events?after=0`)).data.events;
    assert.deepStrictEqual(history.map((e) => [e.seq, e.event]), sa.events.map((e) => [e.seq, e.event]));
    const tail = (await suite.t.api('GET', `/api/runs/${run.id}/events?after=${sa.last - 2}`)).data.events;
    assert.deepStrictEqual(tail.map((e) => e.seq), [sa.last - 1, sa.last]);
    // files: a preview inline, the model as a download
    const preview = await suite.t.api('GET', `/api/runs/${run.id}/files/${previews[0].event.path}`);
    assert.strictEqual(preview.status, 200);
    assert.strictEqual(preview.headers.get('content-type'), 'image/png');
    assert.ok(preview.data.subarray(0, 4).equals(PNG_MAGIC));
    // The preview of iteration 10 is the held-out photos through that iteration's network, side
    // by side (the reference: checkpoint 10 on the preview photos, the preview noise).
    const folder = suite.runFolder(run.id);
    const checkpoint = (it) => path.join(folder, 'checkpoints', `iter_${String(it).padStart(7, '0')}.pth`);
    const photos = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')).derived.dataset.preview_photos;
    assert.strictEqual(photos.length, 4);
    const previewFile = suite.saved(preview.data, 'preview-10.png');
    const pixels = (it) => suite.ref.check({ kind: 'preview', got: previewFile, model: checkpoint(it), photos, image_size: 32 });
    const d = await pixels(10);
    assert.deepStrictEqual([d.size, d.mode], [[4 * 32, 32], 'RGB']);
    assert.ok(d.max <= 2 && d.mean < 0.05, `the preview of iteration 10 is ${JSON.stringify(d)} from the reference`);
    const later = await pixels(30);
    assert.ok(later.mean > 1, `iterations 10 and 30 preview alike (${JSON.stringify(later)}): the check above proves nothing`);

    const model = await suite.t.api('GET', `/api/runs/${run.id}/files/model.pth`);
    assert.strictEqual(model.status, 200);
    assert.match(model.headers.get('content-disposition'), /^attachment; filename="?[\w.-]+-model\.pth"?$/);
    // the run's model.pth byte for byte: the last iteration's weights (those of its last
    // checkpoint, not an earlier one's), without the optimiser state a checkpoint carries
    assert.ok(model.data.equals(fs.readFileSync(path.join(folder, 'model.pth'))), 'the download is the run\'s model.pth');
    const record = await suite.ref.check({ kind: 'record', path: suite.saved(model.data, 'model.pth'), against: [checkpoint(30), checkpoint(10)] });
    assert.strictEqual(record.iteration, 30);
    assert.deepStrictEqual(record.keys, ['format', 'generator', 'iteration', 'mode', 'state_dict', 'texture', 'train', 'version']);
    assert.strictEqual(record.differences[0], 0, 'model.pth holds checkpoint 30\'s weights');
    assert.ok(record.differences[1] > 1e-4, `model.pth is as close to checkpoint 10 (${record.differences[1]})`);
  });

  it('starts a second run queued behind the first once the first has finished', async () => {
    const c = await suite.t.client();
    const first = await suite.startRun();
    const second = await suite.startRun();
    assert.strictEqual(second.state, 'queued');
    assert.ok(second.queue_position >= 1);
    const listed = (await suite.t.api('GET', '/api/runs')).data;
    assert.ok(listed.queue.includes(second.id));
    const s1 = new RunStream(c, first.id);
    const s2 = new RunStream(c, second.id);
    await s1.subscribe(0);
    await s2.subscribe(0);
    await Promise.all([s1.untilEnd(180000), s2.untilEnd(180000)]);
    const firstDone = s1.ofType('done')[0].event.time;
    const secondStart = s2.ofType('start')[0].event.time;
    assert.ok(secondStart >= firstDone, `second started at ${secondStart}, first done at ${firstDone}`);
    assertComplete(assert, s1.events);
    assertComplete(assert, s2.events);
    assert.strictEqual(s2.ofType('done')[0].event.stopped, false);
  });

  it('gives a client that reconnects mid-run (after = last seq) the complete series', async () => {
    const run = await suite.startRun({ iterations: 80 });
    const first = await suite.t.client();
    const s1 = new RunStream(first, run.id);
    await s1.subscribe(0);
    await s1.until((s) => s.ofType('iteration').length >= 10, 120000, '10 iterations');
    first.close(); // the browser's connection drops
    const seen = s1.events.slice();
    await new Promise((r) => setTimeout(r, 700)); // training goes on meanwhile

    const second = await suite.t.client();
    const s2 = new RunStream(second, run.id);
    const late = new RunStream(await suite.t.client(), run.id); // a newcomer: all the history, then live
    const [ack] = await Promise.all([s2.subscribe(seen.at(-1).seq), late.subscribe(0)]);
    assert.strictEqual(ack.ok, true);
    await Promise.all([s2.untilEnd(180000), late.untilEnd(180000)]);
    assertComplete(assert, late.events);
    assert.ok(s2.events[0].seq === seen.at(-1).seq + 1, 'resumes right after the last seq seen');
    const all = [...seen, ...s2.events];
    assertComplete(assert, all);
    assert.deepStrictEqual(all.filter((e) => e.event.type === 'iteration').map((e) => e.event.iteration),
      Array.from({ length: 80 }, (_, i) => i + 1));
    const history = (await suite.t.api('GET', `/api/runs/${run.id}/events`)).data.events;
    assert.deepStrictEqual(all.map((e) => [e.seq, e.event]), history.map((e) => [e.seq, e.event]));
    assert.deepStrictEqual(late.events.map((e) => [e.seq, e.event]), history.map((e) => [e.seq, e.event]));
  });

  it('stops a run mid-way: a checkpoint and model are written, the state is stopped', async () => {
    const c = await suite.t.client();
    const quitter = await suite.t.client();
    // On the CPU: a GPU could finish it before the stop arrives.
    const run = await suite.startRun({ iterations: 5000, checkpoint_every: 1000, preview_every: 1000, device: 'cpu' });
    const s = new RunStream(c, run.id);
    const q = new RunStream(quitter, run.id);
    await s.subscribe(0);
    await q.subscribe(0);
    await s.until((x) => x.ofType('iteration').length >= 5, 120000, '5 iterations');
    // Refused while it runs: a running run's folder is still being written.
    const refused = await suite.t.api('DELETE', `/api/runs/${run.id}`);
    assert.strictEqual(refused.status, 409, JSON.stringify(refused.data));
    assert.match(refused.data.error, /stop it before deleting it/);
    // A client that unsubscribes hears no more of the run, while the other does.
    quitter.emit('unsubscribe', { run: run.id });
    // Node handles a socket's messages in order: once it has answered a later one (a subscribe it
    // refuses at once, changing nothing), the unsubscribe is done, and every event sent before
    // it has arrived (one connection, in order).
    const barrier = await quitter.timeout(30000).emitWithAck('subscribe', {});
    assert.strictEqual(barrier.ok, false);
    const heard = q.events.length;
    const target = q.last + 5;
    await s.until((x) => x.last >= target, 60000, '5 more events');
    assert.strictEqual(q.events.length, heard, 'an unsubscribed client still received events');
    const stopped = nextMessage(c, 'run_state', (m) => m.run.id === run.id && m.run.state === 'stopped', 60000);
    const res = await suite.t.api('POST', `/api/runs/${run.id}/stop`);
    assert.strictEqual(res.status, 200, JSON.stringify(res.data));
    assert.ok(['stopping', 'stopped'].includes(res.data.run.state), res.data.run.state);
    const info = (await stopped).run;
    await s.untilEnd(30000);
    const done = s.ofType('done')[0].event;
    assert.strictEqual(done.stopped, true);
    assert.ok(done.iteration < 5000);
    assert.strictEqual(info.checkpoints.at(-1).iteration, done.iteration);
    assert.strictEqual(info.model, 'model.pth');
    const ckpt = await suite.t.api('GET', `/api/runs/${run.id}/files/${info.checkpoints.at(-1).path}`);
    assert.strictEqual(ckpt.status, 200);
    assert.match(ckpt.headers.get('content-disposition'), /attachment/);
    assertComplete(assert, s.events);
  });
});
