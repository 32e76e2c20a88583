'use strict';
// How fast a run's events reach a browser, and whether streaming them slows training.
//
//   node bench/stream_latency.js [--iterations 400] [--image_size 32] [--batch_size 2] [--pairs 2]
//                                [--preview_every 50] [--device cpu|cuda|auto] [--vgg_weights random]
//
// Starts TN Studio (its own worker service, a temp runs folder), trains alternately with a
// socket.io client subscribed and with none (`pairs` times each, so a change in the machine's
// load hits both alike), and prints: iteration-to-client latency (the event's
// `time`, written by the trainer, to its arrival at the client; same clock), and the
// trainer's images/s (from its iteration events) in both runs.
const fs = require('node:fs');
const { io } = require('socket.io-client');
const { benchArgs } = require('./args');
const { makeWorkspace, startStudio, tinyConfig } = require('../tests/node/helpers/studio');

const args = () => benchArgs({ iterations: 400, image_size: 32, batch_size: 2, preview_every: 50, device: 'auto', vgg_weights: 'random', pairs: 2 });

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The trainer's smoothed images/s over the last three quarters of the run (past the warm-up).
function imagesPerSecond(events) {
  const rates = events.filter((e) => e.type === 'iteration' && e.images_per_s != null).map((e) => e.images_per_s);
  return median(rates.slice(Math.floor(rates.length / 4)));
}

async function train(t, config, streaming) {
  let socket = null;
  const latencies = [];
  let previews = 0;
  let previewBytes = 0;
  if (streaming) {
    socket = io(t.url, { transports: ['websocket'], forceNew: true });
    await new Promise((resolve) => socket.once('connect', resolve));
  }
  const res = await t.api('POST', '/api/runs', { config });
  if (res.status !== 201) throw new Error(JSON.stringify(res.data));
  const id = res.data.run.id;
  const finished = new Promise((resolve) => {
    const watcher = io(t.url, { transports: ['websocket'], forceNew: true });
    watcher.on('run_state', ({ run }) => {
      if (run.id === id && ['done', 'stopped', 'failed'].includes(run.state)) {
        watcher.close();
        resolve(run);
      }
    });
  });
  if (socket) {
    socket.on('run_event', (msg) => {
      if (msg.run !== id) return;
      const received = Date.now() / 1000;
      if (msg.event.type === 'iteration') latencies.push((received - msg.event.time) * 1000);
      if (msg.image) {
        previews += 1;
        previewBytes += msg.image.length;
      }
    });
    await socket.timeout(30000).emitWithAck('subscribe', { run: id, after: 0 });
  }
  const run = await finished;
  if (socket) socket.close();
  if (run.state !== 'done') throw new Error(`run ${id} ${run.state}: ${run.error}`);
  const events = (await t.api('GET', `/api/runs/${id}/events`)).data.events.map((e) => e.event);
  return { id, latencies, previews, previewBytes, imagesPerS: imagesPerSecond(events), device: run.config.device };
}

async function main() {
  const opts = args();
  const ws = makeWorkspace();
  const t = await startStudio(ws, { env: process.env }); // torch's own thread count: the real speed
  const { pairs, ...training } = opts;
  const config = tinyConfig(ws.photos, { ...training, checkpoint_every: 100000 });
  try {
    const device = (await t.api('GET', '/api/device')).data.device;
    console.log(`stream latency: ${opts.iterations} iterations, ${opts.image_size}px, batch ${opts.batch_size}, ` +
      `preview every ${opts.preview_every}, device ${opts.device} (${device.kind}, ${device.gpus.map((g) => g.name).join(', ') || `${device.cpus} CPUs`})`);
    await train(t, { ...config, iterations: 20 }, false); // warm-up: file caches, imports
    const streamed = [];
    const quiet = [];
    for (let i = 0; i < pairs; i++) {
      streamed.push(await train(t, config, true));
      quiet.push(await train(t, config, false));
    }
    const lat = streamed.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const live = streamed.map((r) => r.latencies.length);
    console.log(`iteration events received live: ${live.join(', ')} of ${opts.iterations} per run`);
    console.log(`latency (event time -> client), ms: p50 ${quantile(lat, 0.5).toFixed(1)}  ` +
      `p95 ${quantile(lat, 0.95).toFixed(1)}  max ${lat.at(-1).toFixed(1)}`);
    const previews = streamed.reduce((n, r) => n + r.previews, 0);
    const kib = streamed.reduce((n, r) => n + r.previewBytes, 0) / 1024;
    console.log(`previews streamed as binary: ${previews} (${kib.toFixed(1)} KiB)`);
    const rates = (runs) => runs.map((r) => r.imagesPerS.toFixed(1)).join(', ');
    console.log(`images/s with a client streaming: ${median(streamed.map((r) => r.imagesPerS)).toFixed(1)} (runs: ${rates(streamed)})`);
    console.log(`images/s without a client:        ${median(quiet.map((r) => r.imagesPerS)).toFixed(1)} (runs: ${rates(quiet)})`);
  } finally {
    await t.close();
    fs.rmSync(ws.root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
