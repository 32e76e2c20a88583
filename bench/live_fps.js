'use strict';
// The Live view's frame rate in headless Chromium (WebAssembly: no GPU there) on its fake camera,
// at each processing size, beside the same network's time in PyTorch (models.fast, as the app's
// Stylize runs it) and in native onnxruntime (the same ONNX bytes the page runs), on the same
// frame size and CPU threads.
//
//   node bench/live_fps.js [--sizes 256,512] [--seconds 20] [--warmup 5]
//
// Starts TN Studio (its own worker service, a temp runs folder), trains a tiny run for a model
// (the network's work does not depend on its weights), opens its Live view on the fake camera and
// counts the frames painted in `seconds` at each size, after `warmup`; prints where a frame's time
// goes as the page measures it (into the inputs, the network, onto the canvas) and the load average,
// since on a shared machine every figure moves with it.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { benchArgs } = require('./args');
const { makeWorkspace, startStudio, tinyConfig } = require('../tests/node/helpers/studio');
const { python } = require('../tests/node/helpers/reference');
const { resolveChromium } = require('../tests/browser/chromium');

const args = () => benchArgs({ sizes: '256,512', seconds: 20, warmup: 5 });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Native figures for [w, h] frames: PyTorch (bench/stylize_speed.py's timing) and onnxruntime.
const NATIVE = `
import json, sys, time
import numpy as np, onnxruntime, torch
sys.path.insert(0, 'bench')
from stylize_speed import timed
from models.fast import forward_fast
from worker import malloc
from worker.checkpoint import load_generator
model, onnx, threads, dims = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
torch.set_num_threads(threads)
g = load_generator(model, 'stylize').eval()
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = threads
session = onnxruntime.InferenceSession(open(onnx, 'rb').read(), options, providers=['CPUExecutionProvider'])
out = []
for w, h in dims:
    x = torch.rand(1, 3, h, w)
    with malloc.reusing_freed_memory():
        torch_s = timed(lambda x: forward_fast(g, x), x, 'cpu', 5)[0]
    feeds = {'image': x.numpy(), 'noise': np.random.rand(1, 3, h, w).astype(np.float32), 'noise_factor': np.array(1.0, np.float32)}
    session.run(None, feeds)
    t = time.perf_counter()
    for _ in range(5):
        session.run(None, feeds)
    out.append({'torch_ms': torch_s * 1000, 'ort_ms': (time.perf_counter() - t) / 5 * 1000})
print(json.dumps(out))
`;

async function trainedRun(app, ws) {
  const res = await app.api('POST', '/api/runs', { config: tinyConfig(ws.photos, { iterations: 2, checkpoint_every: 2, preview_every: 2 }) });
  const id = res.data.run.id;
  for (;;) {
    const { state } = (await app.api('GET', `/api/runs/${id}`)).data.run;
    if (state === 'done') return id;
    if (['failed', 'stopped'].includes(state)) throw new Error(`the run ${id} ${state}`);
    await sleep(500);
  }
}

async function browser() {
  const r = await resolveChromium();
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: r.executablePath, ...(r.env ? { env: { ...process.env, ...r.env } } : {}),
    args: ['--headless', '--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
}

// Frames painted per second at `size` on the camera, and the page's own split of a frame.
async function measure(page, size, { seconds, warmup }) {
  await page.locator('#live-size').fill(String(size));
  await page.waitForFunction((s) => document.querySelector('#live-canvas')?.tnFrame?.w === s, size, { timeout: 120000 });
  await sleep(warmup * 1000);
  const read = () => page.evaluate(() => {
    const c = document.querySelector('#live-canvas');
    return { frames: Number(c.dataset.frames), t: performance.now(), w: c.tnFrame.w, h: c.tnFrame.h, ...document.querySelector('#live-timing').dataset };
  });
  const a = await read();
  const load = os.loadavg()[0];
  await sleep(seconds * 1000);
  const b = await read();
  return { size, w: b.w, h: b.h, fps: (b.frames - a.frames) / ((b.t - a.t) / 1000), grab: b.grab, network: b.network, show: b.show, load, loadEnd: os.loadavg()[0] };
}

async function main() {
  const opts = args();
  const ws = makeWorkspace();
  const app = await startStudio(ws);
  const chromium = await browser();
  try {
    const id = await trainedRun(app, ws);
    const page = await (await chromium.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${app.url}/#/runs/${id}/live`);
    await page.locator('#live-backend[data-backend]').waitFor({ timeout: 120000 });
    const backend = await page.locator('#live-backend').textContent();
    const threads = await page.evaluate(() => (crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1));
    await page.locator('#live-camera').click();
    const rows = [];
    for (const size of opts.sizes.split(',').map(Number)) rows.push(await measure(page, size, opts));
    const onnx = path.join(ws.root, 'model.onnx');
    fs.writeFileSync(onnx, (await app.api('GET', `/api/runs/${id}/export?format=onnx`)).data);
    const native = JSON.parse(await python(['-c', NATIVE, path.join(ws.runs, id, 'model.pth'), onnx, String(threads), JSON.stringify(rows.map((r) => [r.w, r.h]))]));
    console.log(`${backend}\n${os.cpus().length} CPUs (${os.cpus()[0].model}); the page and native use ${threads} threads`);
    console.log('| size | frame | fps | ms in | ms network | ms out | PyTorch ms | onnxruntime ms | load avg (start, end) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    rows.forEach((r, i) => console.log(`| ${r.size} | ${r.w}x${r.h} | ${r.fps.toFixed(1)} | ${Number(r.grab).toFixed(0)} | ${Number(r.network).toFixed(0)} | `
      + `${Number(r.show).toFixed(0)} | ${native[i].torch_ms.toFixed(0)} | ${native[i].ort_ms.toFixed(0)} | ${r.load.toFixed(1)}, ${r.loadEnd.toFixed(1)} |`));
  } finally {
    await chromium.close();
    await app.close();
    fs.rmSync(ws.root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
