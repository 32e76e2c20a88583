'use strict';
// Live (#/runs/:id/live): the run's ONNX export run in the page by onnxruntime-web (served by the
// app), in headless Chromium without WebGPU (so WebAssembly, and the page says so and why), on a
// photo and on Chromium's fake camera; the style-strength slider and the seed button act on the
// next frame; the page's output for its image and noise equals PyTorch's within 1e-3 (and its
// noise is the seeded noise Python draws); Snapshot downloads a PNG of the shown size, Record a
// WebM; a texture-synthesis run's texture flows, tiled 2x2. Screenshots at 1280 and 400 px.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { assertNoOverflow, download, makeDataset, newPage, shot, startServer, tmpDir, until } = require('./helpers');
const { resolveChromium } = require('./chromium');
const { python } = require('../node/helpers/reference');

const TINY = { image_size: 32, style_size: 32, workers: 0, vgg_weights: 'random', device: 'cpu', iterations: 6, preview_every: 3, checkpoint_every: 3 };
const pngSize = (bytes) => [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];

// The page's last frame as plain numbers: sizes, seed, factor and its tensors (base64 float32).
const frameOf = (page) => page.locator('#live-canvas').evaluate((canvas) => {
  const f = canvas.tnFrame;
  const b64 = (a) => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const sum = (a) => a.reduce((x, v, i) => x + v * ((i % 97) + 1), 0); // a cheap fingerprint
  return {
    frames: Number(canvas.dataset.frames), w: f.w, h: f.h, seed: f.seed, factor: f.factor, phase: f.phase, mirror: f.mirror,
    shown: [canvas.width, canvas.height], out: sum(f.output), noise: f.noise ? sum(f.noise) : null,
    tensors: { image: f.image && b64(f.image), noise: f.noise && b64(f.noise), output: b64(f.output) },
  };
});

// Waits for a frame made after the one seen (and matching `ok`, if given).
// (Generous: on a shared 2-core machine a frame has taken 3 s, and the first one waits for the export.)
async function nextFrame(page, after, ok = () => true, what = 'a new frame', timeout = 120000) {
  return until(async () => {
    const f = await frameOf(page).catch(() => null);
    return f && f.frames > after.frames && ok(f) ? f : null;
  }, { timeout, interval: 150, what });
}

// The page's noise redrawn in numpy from its seed, and PyTorch's output for its image and noise:
// models.portable.branch_noise gives the generator the per-scale noise the export takes.
const PARITY = `
import base64, json, sys
import numpy as np, torch
from models.portable import branch_noise
from worker.checkpoint import load_generator

def lowbias32(x):
    x = x ^ (x >> np.uint32(16)); x = x * np.uint32(0x7feb352d)
    x = x ^ (x >> np.uint32(15)); x = x * np.uint32(0x846ca68b)
    return x ^ (x >> np.uint32(16))

def uniform(seed, count):
    key = lowbias32(np.array([seed ^ 0x9e3779b9], np.uint32))
    return (lowbias32(lowbias32(np.arange(count, dtype=np.uint32)) ^ key) >> np.uint32(8)).astype(np.float32) * np.float32(2 ** -24)

r = json.load(open(sys.argv[1]))
shape = (1, 3, r['h'], r['w'])
t = {k: np.frombuffer(base64.b64decode(v), np.float32).reshape(shape) for k, v in r['tensors'].items()}
noise = uniform(r['seed'], 3 * r['w'] * r['h']).reshape(shape)
g = load_generator(r['model'], 'stylize')
with torch.no_grad():
    noise_t = torch.from_numpy(noise)
    want = g(torch.from_numpy(t['image'].copy()), noise=r['factor'], noises=branch_noise(g, noise_t)).numpy()
# The image input is the photo (RGB, in order) at the frame's size: resampling filters differ, a channel swap would not.
from PIL import Image
photo = np.asarray(Image.open(r['photo']).convert('RGB').resize((r['w'], r['h']), Image.BILINEAR), np.float32).transpose(2, 0, 1) / 255
print(json.dumps({'noise': float(np.abs(noise - t['noise']).max()), 'output': float(np.abs(want - t['output']).max()),
                  'photo': float(np.abs(photo - t['image'][0]).mean())}))
`;

async function pytorchParity(tmp, model, photo, frame) {
  const file = path.join(tmp, 'frame.json');
  fs.writeFileSync(file, JSON.stringify({ ...frame, model, photo }));
  return JSON.parse(await python(['-c', PARITY, file]));
}

const floats = (b64) => { const b = Buffer.from(b64, 'base64'); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const meanDiff = (a, b) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;
// Planes of w x h, each row reversed.
function flip(planes, w, h) {
  const out = new Float32Array(planes.length);
  for (let row = 0; row < planes.length / w; row++) {
    for (let x = 0; x < w; x++) out[row * w + x] = planes[row * w + (w - 1 - x)];
  }
  return out;
}

// A Y4M clip for the fake camera: a picture far from its own mirror image (dark left, bright right,
// a bright band near the top left) with a small square moving along the bottom, 10 frames, looped.
function cameraClip(file, w = 320, h = 240, frames = 10) {
  const header = Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`);
  const parts = [header];
  for (let f = 0; f < frames; f++) {
    const y = Buffer.alloc(w * h);
    for (let row = 0; row < h; row++) {
      for (let x = 0; x < w; x++) {
        const square = row > h - 40 && row < h - 10 && x >= 20 + f * 24 && x < 50 + f * 24;
        const band = row > 20 && row < 60 && x < w / 3;
        y[row * w + x] = square || band ? 235 : 40 + Math.round((170 * x) / w);
      }
    }
    const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
    parts.push(Buffer.from('FRAME\n'), y, chroma);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
  return file;
}

async function launchWithFakeCamera(t, clip) {
  const r = await resolveChromium();
  const { chromium } = require('playwright-core');
  // No --disable-gpu: headless has no GPU adapter anyway; the page must find that out itself.
  const browser = await chromium.launch({
    executablePath: r.executablePath, ...(r.env ? { env: { ...process.env, ...r.env } } : {}),
    args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`],
  });
  t.after(() => browser.close());
  return browser;
}

async function trainRuns(url, data) {
  const post = async (config) => {
    const res = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ config }) });
    assert.strictEqual(res.status, 201);
    return (await res.json()).run.id;
  };
  const styl = await post({ ...TINY, data_dir: data, texture: 'stained_glass', batch_size: 2 });
  const synth = await post({ ...TINY, mode: 'synthesis', texture: 'craquelure', batch_size: 4 });
  const state = async (id) => (await (await fetch(`${url}/api/runs/${id}`)).json()).run.state;
  await until(async () => (await state(styl)) === 'done' && (await state(synth)) === 'done', { timeout: 180000, interval: 500, what: 'both runs done' });
  return { styl, synth };
}

test('Live: the network in the page on a photo, the fake camera and flowing noise', { timeout: 1200000 }, async (t) => {
  const tmp = tmpDir('tn-live-');
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const data = makeDataset(path.join(tmp, 'photos'), 10);
  const server = await startServer({ tmp });
  t.after(() => server.stop());
  const browser = await launchWithFakeCamera(t, cameraClip(path.join(tmp, 'camera.y4m')));
  const { styl, synth } = await trainRuns(server.url, data);
  const page = await newPage(browser);

  await t.test('the dashboard opens Live, which says its backend and why, and paints at once', async () => {
    await page.goto(`${server.url}/#/runs/${styl}`);
    await page.locator('#live-run').click();
    await page.waitForURL(/#\/runs\/[^/]+\/live$/);
    const backend = page.locator('#live-backend[data-backend]');
    await backend.waitFor({ timeout: 120000 });
    assert.strictEqual(await backend.getAttribute('data-backend'), 'wasm');
    const text = await backend.textContent();
    assert.match(text, /Running on WebAssembly/);
    assert.match(text, /WebGPU/, 'why not WebGPU');
    // Cross-origin isolated, so threads: as many as cores, at most 4.
    const cores = await page.evaluate(() => Math.min(4, navigator.hardwareConcurrency));
    assert.match(text, new RegExp(`with ${cores} threads? `));
    // Nothing chosen yet: the run's preview photos, never a blank stage.
    const first = await nextFrame(page, { frames: 0 }, () => true, 'a first frame', 240000);
    assert.match(await page.locator('#live-showing').textContent(), /preview photos/);
    assert.ok(first.w > 0 && first.h > 0);
  });

  await t.test('a photo: frames at the processing size; the slider and the seed act on the next frame', async () => {
    await page.locator('#live-photo').setInputFiles(path.join(data, 'photo_00.png')); // 48 x 64
    let f = await nextFrame(page, { frames: 0 }, (x) => x.h === 256, 'a frame of the photo');
    assert.deepStrictEqual([f.w, f.h, ...f.shown], [192, 256, 192, 256]);
    const still = await nextFrame(page, f);
    assert.strictEqual(still.out, f.out, 'the same photo, noise and strength: the same frame');

    await page.locator('#live-noise').fill('3');
    f = await nextFrame(page, still, (x) => x.factor === 3, 'a frame at strength 3');
    assert.notStrictEqual(f.out, still.out, 'the strength changed the frame');
    assert.strictEqual(f.noise, still.noise, 'not the noise');

    await page.locator('#live-seed').click();
    const seeded = await nextFrame(page, f, (x) => x.seed === 1, 'a frame of seed 1');
    assert.strictEqual(await page.locator('#live-seed-value').textContent(), '1');
    assert.notStrictEqual(seeded.noise, f.noise, 'a new noise');
    assert.notStrictEqual(seeded.out, f.out);
  });

  await t.test('parity: the page computes what PyTorch computes for its image and noise, within 1e-3', async () => {
    await page.locator('#live-noise').fill('1.5');
    await nextFrame(page, await frameOf(page), (x) => x.factor === 1.5);
    await page.locator('#live-pause').click();
    const f = await frameOf(page);
    // What the canvas shows is that output, in 8 bits.
    const shown = await page.locator('#live-canvas').evaluate((canvas) => {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      const { output, w, h } = canvas.tnFrame;
      let worst = 0;
      for (let i = 0; i < w * h; i++) {
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(px[4 * i + c] - Math.min(255, Math.max(0, output[c * w * h + i] * 255))));
      }
      return worst;
    });
    await page.locator('#live-pause').click();
    assert.ok(shown <= 0.5 + 1e-6, `the canvas is ${shown} levels from the output`);
    const got = await pytorchParity(tmp, path.join(tmp, 'runs', styl, 'model.pth'), path.join(data, 'photo_00.png'), f);
    t.diagnostic(`largest difference from PyTorch: ${got.output.toExponential(2)} (noise: ${got.noise}; image from the photo: ${got.photo.toFixed(4)} on average)`);
    assert.strictEqual(got.noise, 0, 'the page draws the seed\'s noise as Python does');
    assert.ok(got.output < 1e-3, `the output differs from PyTorch's by ${got.output}`);
    assert.ok(got.photo < 0.02, `the page's image input is ${got.photo} from the photo on average`);
  });

  await t.test('Snapshot is a PNG of the shown size; Record a WebM', async () => {
    await page.locator('#live-pause').click();
    const shown = (await frameOf(page)).shown;
    const png = await download(page, page.locator('#live-snapshot'));
    assert.match(png.name, new RegExp(`-live-${shown[0]}x${shown[1]}\\.png$`));
    assert.deepStrictEqual(pngSize(png.bytes), shown);
    await page.locator('#live-pause').click();
    await page.locator('#live-record').click();
    await nextFrame(page, await frameOf(page));
    await page.waitForTimeout(1500);
    const clip = await download(page, page.locator('#live-record'));
    assert.match(clip.name, /-live\.webm$/);
    assert.strictEqual(clip.bytes.readUInt32BE(0), 0x1a45dfa3, 'an EBML (WebM) file');
    await shot(page, 'live-photo');
    const narrow = await newPage(browser, { width: 400, height: 900 });
    await narrow.goto(page.url());
    await narrow.locator('#live-canvas:not([hidden])').waitFor({ timeout: 60000 });
    await shot(narrow, 'live-photo-400');
    await assertNoOverflow(narrow);
    assert.deepStrictEqual(narrow.errors, []);
    await narrow.close();
  });

  await t.test('the fake camera: live frames, mirrored until unticked', async () => {
    await page.locator('#live-camera').click();
    await until(async () => !/photo/.test(await page.locator('#live-showing').textContent()), { timeout: 30000, what: 'the camera' });
    const [vw, vh] = await page.evaluate(async () => {
      const track = (await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } } })).getVideoTracks()[0];
      const { width, height } = track.getSettings();
      track.stop();
      return [width, height];
    });
    const a = await nextFrame(page, await frameOf(page), (x) => x.w === 256 && x.h === Math.round((256 * vh) / vw), `a ${vw}x${vh} camera frame at 256 px`);
    const b = await nextFrame(page, a, (x) => x.out !== a.out, 'the camera moving');
    assert.ok(b.frames > a.frames);
    // Mirror off: the next frame's picture is the last one flipped (as near as a moving picture allows).
    await page.locator('#live-mirror').uncheck();
    const c = await nextFrame(page, b, (x) => x.mirror === false, 'a frame unmirrored');
    const [pb, pc] = [b, c].map((f) => floats(f.tensors.image));
    const [toFlip, toSame] = [meanDiff(pc, flip(pb, b.w, b.h)), meanDiff(pc, pb)];
    assert.ok(toFlip < toSame / 4, `unmirrored: ${toFlip} from the last frame flipped, ${toSame} from it as it was`);
    assert.match(await page.locator('#live-fps').textContent(), /^\d+(\.\d)? fps$/);
    await shot(page, 'live-camera');
    assert.deepStrictEqual(page.errors, []);
  });

  await t.test('a synthesis run: the texture flows, at the chosen size, tiled 2x2', async () => {
    await page.goto(`${server.url}/#/runs/${synth}/live`);
    const a = await nextFrame(page, { frames: 0 }, () => true, 'a synthesis frame', 240000);
    assert.deepStrictEqual([a.w, a.h, ...a.shown], [256, 256, 256, 256]);
    assert.strictEqual(await page.locator('#live-photo').count(), 0, 'no source to choose');
    const b = await nextFrame(page, a);
    assert.ok(b.phase !== a.phase && b.out !== a.out, 'the noise moved, and the texture with it');
    await page.locator('#live-tiled').check();
    const tiled = await nextFrame(page, b, (x) => x.shown[0] === 512);
    assert.deepStrictEqual(tiled.shown, [512, 512]);
    await shot(page, 'live-synthesis');
    await page.setViewportSize({ width: 400, height: 900 });
    await shot(page, 'live-synthesis-400');
    await assertNoOverflow(page);
    assert.deepStrictEqual(page.errors, []);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('a checkpoint (the comparison cell\'s Live): that network runs, not the model', async () => {
    await page.goto(`${server.url}/#/runs/${styl}/live/3`);
    await page.locator('#live-backend[data-backend]').waitFor({ timeout: 120000 });
    assert.match(await page.locator('#live-backend').textContent(), /its checkpoint at iteration 3\./);
    await page.locator('#live-photo').setInputFiles(path.join(data, 'photo_00.png'));
    await nextFrame(page, { frames: 0 }, (x) => x.h === 256, 'a frame of the photo');
    await page.locator('#live-pause').click();
    const f = await frameOf(page);
    const runDir = path.join(tmp, 'runs', styl);
    const got = await pytorchParity(tmp, path.join(runDir, 'checkpoints', 'iter_0000003.pth'), path.join(data, 'photo_00.png'), f);
    assert.ok(got.output < 1e-3, `checkpoint 3's output differs by ${got.output}`);
    const model = await pytorchParity(tmp, path.join(runDir, 'model.pth'), path.join(data, 'photo_00.png'), f);
    assert.ok(model.output > 1e-2, `the model's output is as close (${model.output}): not told apart`);
    await page.goto(`${server.url}/#/runs/${styl}/live/5`);
    await page.locator('.live-page', { hasText: 'no checkpoint at iteration 5' }).waitFor({ timeout: 30000 });
    assert.deepStrictEqual(page.errors, []);
  });
});
