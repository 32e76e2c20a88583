'use strict';
// Streams a file from the worker service's HTTP side to a browser.
const path = require('node:path');
const mime = require('mime-types');
const { HttpError } = require('./http-error');
const { WorkerUnavailable } = require('./worker');

// A file's type by its extension (mime-types, as Express's own); JSON lines are ours.
const OWN_TYPES = { '.jsonl': 'application/x-ndjson' };
const typeOf = (ext) => OWN_TYPES[ext] || mime.contentType(ext) || null;

// `download` names the file the browser saves (checkpoints and models are downloads, not pages).
async function proxyFile(worker, workerPath, res, { download } = {}) {
  let upstream;
  try {
    upstream = await worker.httpGet(workerPath);
  } catch (err) {
    throw err instanceof WorkerUnavailable ? new HttpError(503, err.message) : err;
  }
  if (upstream.statusCode !== 200) {
    upstream.resume();
    if (upstream.statusCode === 404) throw new HttpError(404, 'no such file');
    throw new HttpError(502, `the worker service answered ${upstream.statusCode}`);
  }
  const ext = path.extname(workerPath).toLowerCase();
  res.status(200);
  if (download) res.attachment(download); // first: it would also guess a Content-Type
  res.set('Content-Type', typeOf(ext) || upstream.headers['content-type'] || 'application/octet-stream');
  res.set('X-Content-Type-Options', 'nosniff');
  if (upstream.headers['content-length']) res.set('Content-Length', upstream.headers['content-length']);
  if (upstream.headers['last-modified']) res.set('Last-Modified', upstream.headers['last-modified']);
  res.set('Cache-Control', 'no-cache');
  upstream.pipe(res);
  upstream.on('error', () => res.destroy());
  res.on('close', () => upstream.destroy());
}

module.exports = { proxyFile };
