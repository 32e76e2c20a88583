'use strict';
// /vendor/onnxruntime-web/: the files of onnxruntime-web (an npm dependency) the Live view loads,
// served from node_modules so that it works offline (no CDN). Only these files, by name: the rest
// of node_modules is never reachable, and nothing lists a folder.
const path = require('node:path');
const express = require('express');

const DIST = path.resolve(__dirname, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');
// ort.min.mjs is the build with both backends (WebGPU and WebAssembly); it loads its WebAssembly
// module (threads + SIMD) and that module's glue, which also starts the threads' workers.
const FILES = ['ort.min.mjs', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

function ortRouter() {
  const router = express.Router();
  for (const file of FILES) {
    router.get(`/${file}`, (req, res, next) => res.sendFile(file, { root: DIST, maxAge: '1h' }, (err) => err && next(err)));
  }
  return router;
}

module.exports = { ortRouter, ORT_FILES: FILES };
