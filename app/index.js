'use strict';
// The app factory: Express routes, the browsers' socket.io, the worker service behind them.
// server.js listens with it; the tests start their own on any free port.
const http = require('node:http');
const path = require('node:path');
const express = require('express');
const { Server } = require('socket.io');
const { Worker } = require('./worker');
const { attachRelay } = require('./relay');
const { HttpError, errorHandler } = require('./http-error');
const { sameOrigin, sameOriginOnly } = require('./origin');
const { allowedHosts, hostAllowed, hostOnly } = require('./hosts');
const { MESSAGE_BYTES } = require('./protocol');
const { healthRouter } = require('./routes/health');
const { runsRouter } = require('./routes/runs');
const { sweepsRouter } = require('./routes/sweeps');
const { videosRouter } = require('./routes/videos');
const { texturesRouter } = require('./routes/textures');
const { datasetsRouter } = require('./routes/datasets');
const { stylizeRouter } = require('./routes/stylize');
const { ortRouter } = require('./routes/ort');

const ROOT = path.resolve(__dirname, '..');

// options: {workerUrl, workerToken} to use a running service, or spawn settings {python,
// runsDir, uploadsDir}; backoff {initialMs, maxMs, stableMs} for the restarts; allowedHosts
// (default ALLOWED_HOSTS): names besides localhost that requests may carry in Host.
function createApp(options = {}) {
  const env = options.env || process.env;
  const extraHosts = options.allowedHosts ?? env.ALLOWED_HOSTS;
  let hosts = allowedHosts('127.0.0.1', extraHosts); // and the host listen() is given
  const workerUrl = options.workerUrl ?? env.WORKER_URL;
  const worker = new Worker(workerUrl
    ? { url: workerUrl, token: options.workerToken ?? env.WORKER_TOKEN, backoff: options.backoff }
    : {
      python: options.python || path.join(ROOT, '.venv', 'bin', 'python'),
      cwd: ROOT,
      runsDir: path.resolve(options.runsDir || env.TN_RUNS_DIR || path.join(ROOT, 'runs')),
      uploadsDir: path.resolve(options.uploadsDir || env.TN_UPLOADS_DIR || path.join(ROOT, 'uploads')),
      env,
      backoff: options.backoff,
    });

  const app = express();
  app.disable('x-powered-by');
  app.use(hostOnly(() => hosts));
  // Cross-origin isolation: the Live view's WebAssembly threads need SharedArrayBuffer, which a
  // browser gives only to an isolated page, and the app is one page (hash routes). Everything it
  // loads is its own (same origin), so the headers cost nothing elsewhere: set on every response.
  app.use((req, res, next) => {
    res.set({ 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    next();
  });
  app.use('/api', sameOriginOnly);
  app.use('/api', healthRouter(worker));
  app.use('/api/runs', runsRouter(worker));
  app.use('/api/sweeps', sweepsRouter(worker));
  app.use('/api/videos', videosRouter(worker));
  app.use('/api/textures', texturesRouter(worker));
  app.use('/api/datasets', datasetsRouter(worker));
  app.use('/api/stylize', stylizeRouter(worker));
  app.use('/api/vgg-weights', require('./routes/weights').weightsRouter(worker));
  app.use('/api', (req, res, next) => next(new HttpError(404, `no API route ${req.method} ${req.path}`)));
  app.use(express.static(path.join(ROOT, 'static')));
  // The charting library, installed from npm and served from here: the UI works offline.
  app.use('/vendor/uplot', express.static(path.join(ROOT, 'node_modules', 'uplot', 'dist')));
  app.use('/vendor/onnxruntime-web', ortRouter());
  app.use(errorHandler);

  const server = http.createServer(app);
  const io = new Server(server, {
    maxHttpBufferSize: MESSAGE_BYTES,
    allowRequest: (req, callback) => callback(null, hostAllowed(req.headers, hosts) && sameOrigin(req.headers)),
  });
  attachRelay(io, worker);

  let listening = null;
  return {
    app,
    server,
    io,
    worker,
    // Resolves with {port, url} once listening; starts the worker service.
    listen(port = 3000, host = '127.0.0.1') {
      listening ??= new Promise((resolve, reject) => {
        hosts = allowedHosts(host, extraHosts); // throws for 0.0.0.0 without ALLOWED_HOSTS
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          worker.start();
          const actual = server.address().port;
          resolve({ port: actual, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}` });
        });
      });
      return listening;
    },
    // Stops the worker service (it stops its trainers gracefully), then the server.
    async close() {
      await worker.stop();
      await new Promise((resolve) => {
        io.close(() => resolve()); // also closes the HTTP server
        server.closeAllConnections();
      });
    },
  };
}

module.exports = { createApp, ROOT };
