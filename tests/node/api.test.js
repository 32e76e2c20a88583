'use strict';
// The HTTP API's answers and refusals, the worker's token check, against a real service.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { io } = require('socket.io-client');
const { makeWorkspace, tinyConfig, startStudio, refusingListener, nextMessage } = require('./helpers/studio');
const { encodePng, encodeRgb, gradientPng } = require('./helpers/png');
const { startReference, python, PYTHON, ROOT } = require('./helpers/reference');

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

// A request with the path sent exactly as written: fetch() would normalise '..' away.
function rawGet(url, rawPath) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    http.get({ hostname, port, path: rawPath }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    }).on('error', reject);
  });
}

// A request with any Host header (fetch() always sends the URL's own).
function requestAs(url, host, { method = 'GET', path = '/', headers = {}, body } = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method, headers: { Host: host, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A request written byte for byte on a TCP connection (node:http and fetch always send a Host),
// for HTTP/1.0 or `Connection: close`: resolves with {status, body} once the server has answered
// and closed. (Not half-closed by us: the server would drop a response still in the making.)
function rawHttp(url, text) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1]);
      resolve({ status, body: answer.slice(answer.indexOf('\r\n\r\n') + 4) });
    });
  });
}

// Connects straight to the worker service, as an attacker on this machine could.
function connectWorker(url, auth) {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, auth });
  return new Promise((resolve) => {
    socket.once('connect', () => { socket.close(); resolve('connected'); });
    socket.once('connect_error', (err) => { socket.close(); resolve(`refused: ${err.message}`); });
  });
}

describe('HTTP API', () => {
  let ws;
  let t;
  let run; // a finished tiny run, for the file and stylize routes: checkpoints at 5 and 10
  let ref; // the pictures and models the API serves are checked against it (helpers/reference.py)
  let saved = 0;
  // Bytes the API answered, in a file the reference can read.
  const saveFile = (bytes, ext) => {
    const file = path.join(ws.root, `got-${++saved}${ext}`);
    fs.writeFileSync(file, bytes);
    return file;
  };

  before(async () => {
    ws = makeWorkspace();
    ref = startReference(); // imports torch while the service starts
    t = await startStudio(ws);
    const res = await t.api('POST', '/api/runs', { config: tinyConfig(ws.photos, { iterations: 10, checkpoint_every: 5 }) });
    assert.strictEqual(res.status, 201, JSON.stringify(res.data));
    const c = await t.client();
    const finished = nextMessage(c, 'run_state', (m) => m.run.id === res.data.run.id && m.run.state !== 'running' && m.run.state !== 'queued', 180000);
    run = (await t.api('GET', `/api/runs/${res.data.run.id}`)).data.run;
    if (run.state === 'queued' || run.state === 'running') run = (await finished).run;
    assert.strictEqual(run.state, 'done');
  });

  after(async () => {
    if (t) await t.close();
    if (ref) await ref.close();
    fs.rmSync(ws.root, { recursive: true, force: true });
  });

  it('reports health and the device', async () => {
    const health = await t.api('GET', '/api/health');
    assert.deepStrictEqual(health.data, { ok: true, worker: { state: 'up' } });
    const device = await t.api('GET', '/api/device');
    assert.strictEqual(device.status, 200);
    assert.ok(['cpu', 'cuda'].includes(device.data.device.kind));
    assert.ok(device.data.device.cpus >= 1);
    assert.strictEqual(typeof device.data.device.cpu_bf16, 'boolean'); // what the CPU estimate assumes
  });

  it('the worker refuses a socket.io connection without the right token', async () => {
    const workerUrl = t.studio.worker.httpBase;
    assert.match(await connectWorker(workerUrl, undefined), /^refused/);
    assert.match(await connectWorker(workerUrl, { token: 'not-the-token' }), /^refused/);
    assert.match(await connectWorker(workerUrl, { token: '' }), /^refused/);
    assert.strictEqual(await connectWorker(workerUrl, { token: t.studio.worker.token }), 'connected');
    // and its file route without the Bearer token
    const res = await fetch(`${workerUrl}/files/${run.id}/config.json`);
    assert.strictEqual(res.status, 401);
  });

  it('serves a run file, and refuses paths outside the run folder before they reach the worker', async () => {
    const ok = await rawGet(t.url, `/api/runs/${run.id}/files/config.json`);
    assert.strictEqual(ok.status, 200);
    assert.strictEqual(JSON.parse(ok.body).iterations, 10);
    const attempts = [
      `/api/runs/${run.id}/files/../../package.json`,
      `/api/runs/${run.id}/files/../../../package.json`,
      `/api/runs/${run.id}/files/..%2F..%2Fpackage.json`,
      `/api/runs/${run.id}/files/..%2f..%2f..%2fpackage.json`,
      `/api/runs/${run.id}/files/%2e%2e/%2e%2e/package.json`,
      `/api/runs/${run.id}/files/%2E%2E%2F%2E%2E%2Fpackage.json`,
      `/api/runs/${run.id}/files/%252e%252e/%252e%252e/package.json`,
      `/api/runs/${run.id}/files/previews/..%5C..%5C..%5Cpackage.json`,
      `/api/runs/${run.id}/files//etc/passwd`,
      `/api/runs/${run.id}/files/%2Fetc%2Fpasswd`,
      `/api/runs/${run.id}/files/./config.json`,
      `/api/runs/..%2F..%2Fetc/files/passwd`,
      '/api/runs/%2e%2e/files/package.json',
      '/api/runs/../files/package.json',
      '/api/textures/..%2F..%2Fpackage.json/image',
      '/api/textures/%2e%2e/image',
    ];
    for (const attempt of attempts) {
      const res = await rawGet(t.url, attempt);
      assert.strictEqual(res.status, 400, `${attempt}: refused by Node (400), got ${res.status}`);
      assert.doesNotMatch(res.body, /tn-studio|root:/, attempt);
      if (attempt.startsWith('/api/')) assert.ok(JSON.parse(res.body).error, `${attempt}: an {error} body`);
    }
    assert.strictEqual((await rawGet(t.url, `/api/runs/${run.id}/files/previews/nothing.png`)).status, 404);
    assert.strictEqual((await rawGet(t.url, '/api/runs/no-such-run/files/config.json')).status, 404);
  });

  it('validates run requests', async () => {
    assert.strictEqual((await t.api('GET', '/api/runs/no-such-run')).status, 404);
    assert.strictEqual((await t.api('POST', '/api/runs/no-such-run/stop')).status, 404);
    assert.strictEqual((await t.api('GET', '/api/runs/no-such-run/events')).status, 404);
    assert.strictEqual((await t.api('GET', '/api/runs/bad%20id')).status, 400);
    assert.strictEqual((await t.api('GET', `/api/runs/${run.id}/events?after=x`)).status, 400);
    const noConfig = await t.api('POST', '/api/runs', { iterations: 3 });
    assert.strictEqual(noConfig.status, 400);
    assert.match(noConfig.data.error, /config/);
    const badJson = await t.api('POST', '/api/runs', Buffer.from('{"config":'), { 'Content-Type': 'application/json' });
    assert.deepStrictEqual([badJson.status, badJson.data], [400, { error: 'the body is not valid JSON' }]);
    const badFolder = await t.api('POST', '/api/runs', { config: tinyConfig(`${ws.root}/no-such-folder`) });
    assert.strictEqual(badFolder.status, 400);
    assert.match(badFolder.data.error, /no-such-folder does not exist/);
    const badTexture = await t.api('POST', '/api/runs', { config: tinyConfig(ws.photos, { texture: 'no_such_texture' }) });
    assert.strictEqual(badTexture.status, 400);
    assert.strictEqual((await t.api('GET', '/api/nothing-here')).status, 404);
  });

  it('continues an ended run from a checkpoint as a new run, and deletes it', async () => {
    const cont = (id, body) => t.api('POST', `/api/runs/${id}/continue`, body);
    assert.strictEqual((await cont('no-such-run', {})).status, 404);
    assert.strictEqual((await cont(run.id, { iterations: '20' })).status, 400);
    const tooFew = await cont(run.id, { iterations: 10 });
    assert.strictEqual(tooFew.status, 400);
    assert.strictEqual((await cont(run.id, { iteration: 7 })).status, 404); // no checkpoint there
    assert.match(tooFew.data.error, /above the checkpoint's 10/);
    const c = await t.client();
    const res = await cont(run.id, { iteration: 10, iterations: 12 });
    assert.strictEqual(res.status, 201, JSON.stringify(res.data));
    const next = res.data.run;
    assert.deepStrictEqual([next.state, next.resumed_from, next.iterations], ['queued', { run: run.id, iteration: 10 }, 12]);
    const done = nextMessage(c, 'run_state', (m) => m.run.id === next.id && m.run.state === 'done', 120000);
    const now = (await t.api('GET', `/api/runs/${next.id}`)).data.run;
    assert.strictEqual(now.state === 'done' ? now.iteration : (await done).run.iteration, 12);
    const events = (await t.api('GET', `/api/runs/${next.id}/events`)).data.events;
    assert.deepStrictEqual(events.filter((e) => e.event.type === 'iteration').map((e) => e.event.iteration),
      Array.from({ length: 12 }, (_, i) => i + 1));

    // Deleted: gone from the API, and every browser is told.
    const deleted = nextMessage(c, 'run_deleted', (m) => m.run === next.id, 30000);
    assert.strictEqual((await t.api('DELETE', `/api/runs/${next.id}`)).status, 204);
    assert.deepStrictEqual(await deleted, { run: next.id });
    assert.strictEqual((await t.api('GET', `/api/runs/${next.id}`)).status, 404);
    assert.strictEqual((await t.api('DELETE', `/api/runs/${next.id}`)).status, 404);
  });

  it('uploads a texture; refuses a non-image (415), a missing name (400), an empty or too large body', async () => {
    const png = encodePng(64, 64, (x, y) => [x * 4, y * 4, 128]);
    const up = await t.api('POST', '/api/textures', png, { 'X-Filename': encodeURIComponent('my tile.png') });
    assert.strictEqual(up.status, 201, JSON.stringify(up.data));
    const texture = up.data.texture;
    assert.deepStrictEqual([texture.builtin, texture.width, texture.height], [false, 64, 64]);
    const list = (await t.api('GET', '/api/textures')).data.textures;
    assert.ok(list.some((x) => x.name === texture.name && !x.builtin));
    assert.ok(list.some((x) => x.name === 'stained_glass' && x.builtin));
    const image = await t.api('GET', `/api/textures/${texture.name}/image`);
    assert.strictEqual(image.status, 200);
    assert.strictEqual(image.headers.get('content-type'), 'image/png');
    assert.ok(image.data.equals(png));
    assert.strictEqual((await t.api('GET', '/api/textures/stained_glass/image')).headers.get('content-type'), 'image/jpeg');
    assert.strictEqual((await t.api('GET', '/api/textures/no_such_texture/image')).status, 404);

    const text = await t.api('POST', '/api/textures', Buffer.from('hello, not an image'), { 'X-Filename': 'a.png' });
    assert.strictEqual(text.status, 415);
    assert.match(text.data.error, /not an image/);
    // right magic bytes, broken image: the worker's full decode refuses it
    const truncated = await t.api('POST', '/api/textures', png.subarray(0, 60), { 'X-Filename': 'broken.png' });
    assert.strictEqual(truncated.status, 400);
    assert.strictEqual((await t.api('POST', '/api/textures', png)).status, 400); // no X-Filename
    assert.strictEqual((await t.api('POST', '/api/textures', png, { 'X-Filename': '../x.png' })).status, 400);
    assert.strictEqual((await t.api('POST', '/api/textures', Buffer.alloc(0), { 'X-Filename': 'a.png' })).status, 400);
    const huge = Buffer.concat([png, Buffer.alloc(21 * 2 ** 20)]);
    const tooLarge = await t.api('POST', '/api/textures', huge, { 'X-Filename': 'huge.png' });
    assert.strictEqual(tooLarge.status, 413);
    assert.match(tooLarge.data.error, /20 MB/);
  });

  it('carries an image just under the 20 MB limit through socket.io to the worker and back', async () => {
    const big = encodeRgb(2600, 2680, crypto.randomBytes(2600 * 2680 * 3), { level: 0 }); // noise: a stored, uncompressed PNG
    assert.ok(big.length > 19.9 * 2 ** 20 && big.length <= 20 * 2 ** 20, `${big.length} bytes`);
    const up = await t.api('POST', '/api/textures', big, { 'X-Filename': 'big.png' });
    assert.strictEqual(up.status, 201, JSON.stringify(up.data));
    const back = await t.api('GET', `/api/textures/${up.data.texture.name}/image`);
    assert.ok(back.data.equals(big));
  });

  it('stylizes a photo with a trained run', async () => {
    const photo = gradientPng(40, 3);
    const res = await t.api('POST', `/api/stylize?run=${run.id}&noise=0.5&seed=1`, photo);
    assert.strictEqual(res.status, 200, res.data.toString());
    assert.strictEqual(res.headers.get('content-type'), 'image/png');
    assert.ok(res.data.subarray(0, 4).equals(PNG_MAGIC));
    // The PNG's own header: the photo's size.
    assert.deepStrictEqual([res.data.readUInt32BE(16), res.data.readUInt32BE(20)], [40, 40]);
    assert.strictEqual(res.headers.get('x-image-width'), '40');
    // The same photo, noise and seed: the same image; another seed: another draw of the noise.
    const again = await t.api('POST', `/api/stylize?run=${run.id}&noise=0.5&seed=1`, photo);
    assert.ok(again.data.equals(res.data));
    const other = await t.api('POST', `/api/stylize?run=${run.id}&noise=0.5&seed=2`, photo);
    assert.ok(!other.data.equals(res.data));
    const fromCheckpoint = await t.api('POST', `/api/stylize?run=${run.id}&checkpoint=${run.checkpoints[0].path}&size=64`, photo);
    assert.strictEqual(fromCheckpoint.status, 200, fromCheckpoint.data.toString());
    assert.strictEqual(fromCheckpoint.headers.get('x-image-width'), '64');
    // The pictures are the model's: the photo through model.pth (or the checkpoint asked for) with
    // that noise factor and seed, as the reference renders it.
    const runDir = path.join(ws.runs, run.id);
    const model = path.join(runDir, 'model.pth');
    const checkpoint = path.join(runDir, run.checkpoints[0].path);
    assert.strictEqual(run.checkpoints[0].iteration, 5, 'a checkpoint before the model, so they differ');
    const photoFile = saveFile(photo, '.png');
    const pixels = (got, file, noise, seed, size) => ref.check({ kind: 'stylize', got: saveFile(got.data, '.png'), model: file, photo: photoFile, noise, seed, size });
    for (const [got, file, noise, seed, size, what] of [[res, model, 0.5, 1, null, 'seed 1'], [other, model, 0.5, 2, null, 'seed 2'],
      [fromCheckpoint, checkpoint, 1, 0, 64, 'the checkpoint, the default noise 1 and seed 0']]) {
      const d = await pixels(got, file, noise, seed, size);
      assert.deepStrictEqual([d.size, d.mode], [size ? [64, 64] : [40, 40], 'RGB'], what);
      assert.ok(d.max <= 1 && d.mean < 0.01, `${what}: ${JSON.stringify(d)} from the reference`);
    }
    // and the reference tells them apart: the checkpoint's picture is not the model's
    const wrong = await pixels(fromCheckpoint, model, 1, 0, 64);
    assert.ok(wrong.mean > 1, `checkpoint 5 and model.pth render alike (${JSON.stringify(wrong)}): the check above proves nothing`);
    assert.strictEqual((await t.api('POST', `/api/stylize?run=${run.id}`, Buffer.from('GIF89a... not really'))).status, 400);
    assert.strictEqual((await t.api('POST', `/api/stylize?run=${run.id}`, Buffer.from('plain text'))).status, 415);
    assert.strictEqual((await t.api('POST', '/api/stylize?run=no-such-run', photo)).status, 404);
    assert.strictEqual((await t.api('POST', '/api/stylize', photo)).status, 400);
    assert.strictEqual((await t.api('POST', `/api/stylize?run=${run.id}&noise=lots`, photo)).status, 400);
    assert.strictEqual((await t.api('POST', `/api/stylize?run=${run.id}&checkpoint=../../x.pth`, photo)).status, 400);
  });

  it('trains a texture-synthesis run without photos, and makes samples of it (synthesize)', async () => {
    const protocol = (await t.api('GET', '/api/protocol')).data;
    assert.strictEqual(protocol.mode_defaults.synthesis.image_size, 128, 'settings.json mode_defaults reach the browser');
    assert.deepStrictEqual(Object.keys(protocol.mode_defaults).sort(), ['stylize', 'synthesis'], 'without the file\'s _doc');
    const { data_dir: _, ...noPhotos } = tinyConfig(ws.photos, { mode: 'synthesis', iterations: 6, checkpoint_every: 3, preview_every: 3 });
    const stylizeWithout = await t.api('POST', '/api/runs', { config: { ...noPhotos, mode: 'stylize' } });
    assert.deepStrictEqual([stylizeWithout.status, stylizeWithout.data.error], [400, 'config.data_dir is required']);
    const withPhotos = await t.api('POST', '/api/runs', { config: { ...noPhotos, data_dir: ws.photos } });
    assert.strictEqual(withPhotos.status, 400, 'the worker refuses photos in synthesis mode');
    assert.match(withPhotos.data.error, /data_dir/);

    const c = await t.client();
    const made = await t.api('POST', '/api/runs', { config: noPhotos });
    assert.strictEqual(made.status, 201, JSON.stringify(made.data));
    const id = made.data.run.id;
    assert.strictEqual(made.data.run.mode, 'synthesis');
    const done = nextMessage(c, 'run_state', (m) => m.run.id === id && m.run.state === 'done', 180000);
    let syn = (await t.api('GET', `/api/runs/${id}`)).data.run;
    if (syn.state !== 'done') syn = (await done).run;
    const events = (await t.api('GET', `/api/runs/${id}/events`)).data.events.map((e) => e.event);
    // The run's losses are its last iteration's, the synthesis terms (no content term).
    const lastIteration = events.filter((e) => e.type === 'iteration').at(-1);
    assert.strictEqual(lastIteration.iteration, 6);
    assert.deepStrictEqual(syn.losses, Object.fromEntries(['style', 'diversity', 'distance', 'total'].map((k) => [k, lastIteration[k]])));
    for (const value of Object.values(syn.losses)) assert.ok(Number.isFinite(value), JSON.stringify(syn.losses));
    const preview = events.find((e) => e.type === 'preview');
    assert.match(preview.tiled, /^previews\/iter_\d+-tiled\.png$/);

    // A picture of the run as the API serves it, saved for the reference: {file, size}.
    const png = async (name) => {
      const res = await fetch(`${t.url}/api/runs/${id}/files/${name}`);
      assert.strictEqual(res.status, 200, name);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.ok(bytes.subarray(0, 4).equals(PNG_MAGIC), name);
      return { file: saveFile(bytes, '.png'), size: [bytes.readUInt32BE(16), bytes.readUInt32BE(20)] };
    };
    // Pictures within rounding of the reference's.
    const matches = (d, size, what) => {
      assert.deepStrictEqual([d.size, d.mode], [size, 'RGB'], what);
      assert.ok(d.max <= 1 && d.mean < 0.01, `${what}: ${JSON.stringify(d)} from the reference`);
    };
    const runDir = path.join(ws.runs, id);
    const { derived } = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    const exemplar = await png('previews/exemplar.png');
    matches(await ref.check({ kind: 'texture', got: exemplar.file, texture: derived.texture_path, size: 32 }), exemplar.size,
      'the exemplar is the texture at its style size');
    assert.strictEqual(Math.max(...exemplar.size), 32);
    const synth = (body, run = id) => t.api('POST', `/api/runs/${run}/synthesize`, body);
    const res = await synth({ width: 72, height: 40, seed: 3, count: 2, tile: 2 });
    assert.strictEqual(res.status, 200, JSON.stringify(res.data));
    assert.deepStrictEqual([res.data.width, res.data.height, res.data.samples.map((x) => x.seed)], [72, 40, [3, 4]]);
    const [first, second] = res.data.samples;
    // Each sample is the model's for its seed; the tiling is the sample laid 2x2.
    const model = path.join(runDir, 'model.pth');
    const sample = async (s, seed, checkpoint = model) => {
      const got = await png(s.path);
      matches(await ref.check({ kind: 'synthesize', got: got.file, model: checkpoint, seed, width: got.size[0], height: got.size[1] }),
        got.size, `the sample of seed ${seed}`);
      return got;
    };
    const a = await sample(first, 3);
    assert.deepStrictEqual(a.size, [72, 40]);
    assert.deepStrictEqual((await sample(second, 4)).size, [72, 40]);
    const tiledPng = await png(first.tiled);
    matches(await ref.check({ kind: 'tiled', got: tiledPng.file, image: a.file, n: 2 }), [144, 80], 'the 2x2 tiling of the first sample');
    // two seeds, two samples
    const differ = await ref.check({ kind: 'synthesize', got: a.file, model, seed: 4, width: 72, height: 40 });
    assert.ok(differ.mean > 1, `seeds 3 and 4 give alike samples: ${JSON.stringify(differ)}`);
    // From a checkpoint (by file name or its path in the run folder), untiled.
    const fromCheckpoint = await synth({ width: 32, height: 32, checkpoint: syn.checkpoints[0].path });
    assert.strictEqual(fromCheckpoint.status, 200, JSON.stringify(fromCheckpoint.data));
    assert.strictEqual(fromCheckpoint.data.samples[0].tiled, undefined);
    assert.strictEqual(syn.checkpoints[0].iteration, 3);
    const early = await sample(fromCheckpoint.data.samples[0], 0, path.join(runDir, syn.checkpoints[0].path));
    assert.deepStrictEqual(early.size, [32, 32]);
    const notModel = await ref.check({ kind: 'synthesize', got: early.file, model, seed: 0, width: 32, height: 32 });
    assert.ok(notModel.mean > 1, `checkpoint 3 and model.pth give alike samples: ${JSON.stringify(notModel)}`);

    // Refused by Node before the worker: sizes, counts, tilings, seeds, checkpoint names.
    for (const bad of [{ width: 5000, height: 64 }, { width: 0, height: 64 }, { width: '64', height: 64 }, { width: 64, height: 64, count: 9 },
      { width: 64, height: 64, tile: 1 }, { width: 64, height: 64, seed: -1 }, { width: 64, height: 64, checkpoint: '../model.pth' }]) {
      const r = await synth(bad);
      assert.strictEqual(r.status, 400, JSON.stringify(bad));
      assert.ok(r.data.error, JSON.stringify(bad));
    }
    assert.strictEqual((await synth([1, 2])).status, 400);
    assert.strictEqual((await synth({ width: 32, height: 32 }, 'no-such-run')).status, 404);
    assert.strictEqual((await synth({ width: 32, height: 32, checkpoint: 'iter_0000999.pth' })).status, 404);
    // Each kind of model refuses the other's command, saying what to do.
    const wrongKind = await synth({ width: 32, height: 32 }, run.id);
    assert.strictEqual(wrongKind.status, 400);
    assert.match(wrongKind.data.error, /stylization model/);
    const stylized = await t.api('POST', `/api/stylize?run=${id}`, gradientPng(40, 3));
    assert.strictEqual(stylized.status, 400);
    assert.match(stylized.data.error, /texture-synthesis model/);
    assert.strictEqual((await t.api('DELETE', `/api/runs/${id}`)).status, 204);
  });

  it('scans a folder of photos, thumbnails as data: URLs', async () => {
    const res = await t.api('POST', '/api/datasets/scan', { path: ws.photos });
    assert.strictEqual(res.status, 200, JSON.stringify(res.data));
    assert.strictEqual(res.data.usable, 10);
    assert.strictEqual(res.data.skipped, 0);
    assert.ok(res.data.thumbnails.length > 0);
    for (const thumb of res.data.thumbnails) assert.match(thumb, /^data:image\/jpeg;base64,\/9j\//);
    assert.strictEqual((await t.api('POST', '/api/datasets/scan', { path: `${ws.root}/nothing` })).status, 400);
    assert.strictEqual((await t.api('POST', '/api/datasets/scan', {})).status, 400);
  });

  it('exports the model as ONNX, pt2 and TorchScript, and refuses an unknown format or checkpoint', async () => {
    // What each export computes is the asked-for model's network: run by its own runtime on a
    // photo and noise, it gives what PyTorch gives with the weights of that file, not another's.
    const runDir = path.join(ws.runs, run.id);
    const model = path.join(runDir, 'model.pth');
    const checkpoint = path.join(runDir, 'checkpoints', 'iter_0000005.pth');
    for (const [format, ext, query, file, other] of [['onnx', '.onnx', '', model, checkpoint], ['pt2', '.pt2', '', model, checkpoint],
      ['torchscript', '.pt', '', model, checkpoint],
      ['onnx', '.onnx', '&checkpoint=iter_0000005.pth', checkpoint, model]]) {
      const res = await fetch(`${t.url}/api/runs/${run.id}/export?format=${format}${query}`);
      assert.strictEqual(res.status, 200, await res.clone().text());
      const name = query ? `${run.id}-iter_0000005${ext}` : `${run.id}-model${ext}`;
      assert.match(res.headers.get('content-disposition'), new RegExp(`filename="?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?$`));
      const got = saveFile(Buffer.from(await res.arrayBuffer()), ext);
      const { shape, differences: [mine, theirs] } = await ref.check({ kind: 'export', format, file: got, models: [file, other] });
      assert.deepStrictEqual(shape, [1, 3, 45, 61], format);
      assert.ok(mine < 1e-3, `${format}${query}: ${mine} from ${path.basename(file)}`);
      assert.ok(theirs > 1e-2, `${format}${query}: as close to ${path.basename(other)} (${theirs}): the check tells nothing`);
    }
    assert.strictEqual((await t.api('GET', `/api/runs/${run.id}/export?format=keras`)).status, 400);
    assert.strictEqual((await t.api('GET', `/api/runs/${run.id}/export?format=onnx&checkpoint=iter_0000999.pth`)).status, 404);
    assert.strictEqual((await t.api('GET', `/api/runs/${run.id}/export?format=onnx&checkpoint=../x.pth`)).status, 400);
  });

  it('stylizes a video in the background: progress, then an MP4 with every frame', async () => {
    // The clip is made without blocking the loop (helpers/reference.js, python()): the refusals
    // below once failed with `fetch failed` when a blocking make_clip outlasted the keep-alive timeout.
    const clip = path.join(ws.root, 'clip.mp4');
    await python(['-c', 'import sys; from pathlib import Path; sys.path.insert(0, "tests/python"); '
      + 'from test_video import make_clip; make_clip(Path(sys.argv[1]), count=8)', clip]);
    const body = fs.readFileSync(clip);
    const send = (query, data = body, name = 'clip.mp4') => t.api('POST', `/api/videos?${query}`, data, { 'X-Filename': name });
    assert.strictEqual((await send(`run=${run.id}`, Buffer.from('plain text, not a video'))).status, 415);
    assert.strictEqual((await send('run=no-such-run')).status, 404);
    assert.strictEqual((await send(`run=${run.id}&noise=-1`)).status, 400);
    const started = await send(`run=${run.id}&noise=1&seed=3`);
    assert.strictEqual(started.status, 202, JSON.stringify(started.data));
    let job = started.data.job;
    const deadline = Date.now() + 120000;
    while (['queued', 'running'].includes(job.state) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await t.api('GET', `/api/videos/${job.id}`)).data.job;
    }
    assert.strictEqual(job.state, 'done', JSON.stringify(job));
    assert.deepStrictEqual([job.done, job.total, job.file], [8, 8, 'clip-stylized.mp4']);
    const file = await fetch(`${t.url}/api/videos/${job.id}/file`);
    assert.strictEqual(file.headers.get('content-type'), 'video/mp4');
    const out = path.join(ws.root, 'out.mp4');
    fs.writeFileSync(out, Buffer.from(await file.arrayBuffer()));
    const frames = (await python(['-c', 'import sys; from worker.video import frames; '
      + 'f = list(frames(sys.argv[1])); print(len(f), *f[0].size)', out])).trim();
    assert.strictEqual(frames, '8 72 48');
    assert.strictEqual((await t.api('GET', '/api/videos/0123456789abcdef')).status, 404);
    assert.strictEqual((await t.api('GET', '/api/videos/nope')).status, 400);
  });

  it('starts a sweep (one run per value, grouped) and refuses a bad one whole; "use this one" makes a checkpoint the model', async () => {
    const count = async () => (await t.api('GET', '/api/runs')).data.runs.length;
    const before = await count();
    const sweep = (values, setting = 'content_weight', overrides = {}) =>
      t.api('POST', '/api/sweeps', { config: tinyConfig(ws.photos, { iterations: 4, checkpoint_every: 2, preview_every: 2, ...overrides }), sweep: { setting, values, name: 'two' } });
    const outOfBounds = await sweep([0.01, 7], 'lr');
    assert.strictEqual(outOfBounds.status, 400);
    assert.match(outOfBounds.data.error, /--lr must be between/);
    assert.match((await sweep([1, 2], 'texture')).data.error, /cannot be swept/);
    assert.match((await sweep([1])).data.error, /2 to 6 values/);
    assert.strictEqual((await t.api('POST', '/api/sweeps', { config: tinyConfig(ws.photos) })).status, 400);
    assert.strictEqual(await count(), before, 'a refused sweep queues none of its runs');

    const c = await t.client();
    const res = await sweep([250, 4000]);
    assert.strictEqual(res.status, 201, JSON.stringify(res.data));
    const [a, b] = res.data.runs;
    assert.deepStrictEqual([a.sweep.value, b.sweep.value, a.sweep.name, a.sweep.id === b.sweep.id], [250, 4000, 'two', true]);
    assert.deepStrictEqual([a.config.content_weight, b.config.content_weight], [250, 4000]);
    const ended = (id) => nextMessage(c, 'run_state', (m) => m.run.id === id && m.run.state === 'done', 180000);
    await Promise.all([ended(a.id), ended(b.id)]);

    const file = async (id, name) => Buffer.from(await (await fetch(`${t.url}/api/runs/${id}/files/${name}`)).arrayBuffer());
    const last = await file(a.id, 'model.pth');
    const used = await t.api('POST', `/api/runs/${a.id}/model`, { iteration: 2 });
    assert.strictEqual(used.status, 200, JSON.stringify(used.data));
    assert.deepStrictEqual([used.data.run.model_iteration, used.data.previous], [2, 'model-iter_0000004.pth']);
    assert.ok((await file(a.id, 'model-iter_0000004.pth')).equals(last), 'the previous model is kept as it was');
    assert.ok(!(await file(a.id, 'model.pth')).equals(last));
    assert.strictEqual((await t.api('POST', `/api/runs/${a.id}/model`, { iteration: 3 })).status, 404);
    assert.strictEqual((await t.api('POST', `/api/runs/${a.id}/model`, { iteration: '2' })).status, 400);
    for (const id of [a.id, b.id]) assert.strictEqual((await t.api('DELETE', `/api/runs/${id}`)).status, 204);
  });

  it('refuses requests from another site', async () => {
    const res = await t.api('POST', '/api/textures', gradientPng(8, 1), { 'X-Filename': 'a.png', Origin: 'http://evil.example' });
    assert.strictEqual(res.status, 403);
    const connect = async (extraHeaders) => {
      const socket = io(t.url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders });
      const outcome = await new Promise((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', () => resolve('refused'));
      });
      socket.close();
      return outcome;
    };
    assert.strictEqual(await connect({ Origin: 'http://evil.example' }), 'refused');
    // the same connection from the app's own page is let in: it is the Origin that was refused
    assert.strictEqual(await connect({ Origin: t.url }), 'connected');
  });

  it('refuses a DNS-rebinding page (a foreign Host) on the API, the UI and socket.io; answers its own names', async () => {
    const port = new URL(t.url).port;
    const evil = `evil.example:${port}`;
    const scan = { method: 'POST', path: '/api/datasets/scan', headers: { Origin: `http://${evil}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ path: ws.photos }) };
    for (const req of [{ path: '/api/runs', headers: { Origin: `http://${evil}` } }, scan, { path: '/' }, { path: '/js/main.js' }, { path: '/socket.io/?EIO=4&transport=polling' }]) {
      const res = await requestAs(t.url, evil, req);
      assert.strictEqual(res.status, 403, `${req.path}: ${res.body}`);
      if (!req.path.startsWith('/socket.io')) assert.match(res.body, /ALLOWED_HOSTS=evil\.example/);
    }
    for (const own of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      assert.strictEqual((await requestAs(t.url, own, { path: '/api/runs' })).status, 200, own);
      assert.strictEqual((await requestAs(t.url, own, { path: '/socket.io/?EIO=4&transport=polling' })).status, 200, own);
    }
    assert.strictEqual((await requestAs(t.url, `LocalHost:${port}`, { path: '/' })).status, 200);

    // Names that only begin or end like ours, or contain them (what a prefix, suffix or substring
    // match would let in), and the fully qualified 'localhost.' (another origin to a browser)
    const hostile = ['localhost.evil.example', '127.0.0.1.nip.io', 'localhost.', 'evil.localhost', 'evil-127.0.0.1', 'notlocalhost',
      '[::1].evil.example', 'localhost:3000.evil.example'];
    for (const name of hostile) {
      for (const host of [`${name}:${port}`, name]) {
        for (const route of ['/api/runs', '/', '/socket.io/?EIO=4&transport=polling']) {
          const res = await requestAs(t.url, host, { path: route });
          assert.strictEqual(res.status, 403, `Host: ${host} ${route}: ${res.body}`);
        }
      }
    }
    // No Host at all: HTTP/1.0 may leave it out (HTTP/1.1 must not: Node answers 400 itself).
    for (const route of ['/api/runs', '/', '/socket.io/?EIO=4&transport=polling']) {
      const old = await rawHttp(t.url, `GET ${route} HTTP/1.0\r\n\r\n`);
      assert.strictEqual(old.status, 403, `HTTP/1.0 without Host ${route}: ${old.body}`);
      if (!route.startsWith('/socket.io')) assert.match(old.body, /this request was for \(none\)/);
      const current = await rawHttp(t.url, `GET ${route} HTTP/1.1\r\nConnection: close\r\n\r\n`);
      assert.ok([400, 403].includes(current.status), `HTTP/1.1 without Host ${route}: ${current.status}`);
    }
    // the raw request itself is fine: with our Host it is answered
    assert.strictEqual((await rawHttp(t.url, `GET /api/runs HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\n\r\n`)).status, 200);
  });

  it('answers the names in ALLOWED_HOSTS too, and will not listen on every interface without them', async () => {
    const nowhere = await refusingListener(); // a worker URL that refuses: these apps need none
    try {
      const named = await startStudio(ws, { allowedHosts: 'studio.lan, 10.1.2.3', workerUrl: nowhere.url, workerToken: 'x', noWait: true });
      try {
        const port = new URL(named.url).port;
        assert.strictEqual((await requestAs(named.url, `studio.lan:${port}`, { path: '/' })).status, 200);
        assert.strictEqual((await requestAs(named.url, `10.1.2.3:${port}`, { path: '/' })).status, 200);
        assert.strictEqual((await requestAs(named.url, `evil.example:${port}`, { path: '/' })).status, 403);
        assert.strictEqual((await requestAs(named.url, `studio.lan.evil.example:${port}`, { path: '/' })).status, 403);
        assert.strictEqual((await requestAs(named.url, `10.1.2.3.nip.io:${port}`, { path: '/' })).status, 403);
      } finally {
        await named.close();
      }
      const { createApp } = require('../../app');
      const open = createApp({ allowedHosts: '', workerUrl: nowhere.url, workerToken: 'x' });
      await assert.rejects(open.listen(0, '0.0.0.0'), /Set ALLOWED_HOSTS/);
    } finally {
      await nowhere.close();
    }
  });

  it('uses a worker service already running elsewhere (WORKER_URL and WORKER_TOKEN)', async () => {
    const { spawn } = require('node:child_process');
    const remote = makeWorkspace();
    const service = spawn(PYTHON, ['-m', 'worker.service', '--port', '0',
      '--runs', remote.runs, '--uploads', remote.uploads], {
      cwd: ROOT, env: { ...process.env, TN_WORKER_TOKEN: 'remote-secret', OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => service.once('exit', r));
    let studio;
    try {
      const { port } = await new Promise((resolve, reject) => {
        service.stdout.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0])));
        service.once('exit', (code) => reject(new Error(`the service exited (${code})`)));
      });
      studio = await startStudio(ws, { workerUrl: `http://127.0.0.1:${port}`, workerToken: 'remote-secret' });
      const res = await studio.api('POST', '/api/runs', { config: tinyConfig(remote.photos, { iterations: 4, checkpoint_every: 4 }) });
      assert.strictEqual(res.status, 201, JSON.stringify(res.data));
      const c = await studio.client();
      const done = nextMessage(c, 'run_state', (m) => m.run.id === res.data.run.id && m.run.state === 'done', 120000);
      const info = (await studio.api('GET', `/api/runs/${res.data.run.id}`)).data.run;
      if (info.state !== 'done') await done;
      assert.ok(fs.existsSync(`${remote.runs}/${res.data.run.id}/model.pth`), 'the run is in the remote service\'s folder');
      const model = await studio.api('GET', `/api/runs/${res.data.run.id}/files/model.pth`);
      assert.strictEqual(model.status, 200);
      // the remote service's own file, byte for byte
      assert.ok(model.data.equals(fs.readFileSync(`${remote.runs}/${res.data.run.id}/model.pth`)), 'model.pth as the remote run wrote it');
    } finally {
      if (studio) await studio.close();
      service.kill('SIGTERM');
      await exited;
      fs.rmSync(remote.root, { recursive: true, force: true });
    }
  });

  it('answers 503 while the worker is not up', async () => {
    const refusing = await refusingListener();
    const down = await startStudio(ws, { workerUrl: refusing.url, workerToken: 'x', noWait: true });
    try {
      const health = await down.api('GET', '/api/health');
      assert.notStrictEqual(health.data.worker.state, 'up');
      const runs = await down.api('GET', '/api/runs');
      assert.strictEqual(runs.status, 503);
      assert.match(runs.data.error, /not running/);
      assert.strictEqual((await down.api('GET', `/api/runs/${run.id}/files/config.json`)).status, 503);
      const c = await down.client();
      const status = await c.workerStatus;
      assert.notStrictEqual(status.state, 'up');
    } finally {
      await down.close();
      await refusing.close();
    }
  });
});
