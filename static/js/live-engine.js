// The Live view's network: the run's ONNX export run in the page by onnxruntime-web (served by
// the app from node_modules: /vendor/onnxruntime-web/, no CDN), on WebGPU where the browser has a
// GPU adapter for it, else on WebAssembly with SIMD and, in a cross-origin isolated page, threads.
// Which backend and why is said in words (backend.why), for the page to show.
import { exportUrl } from './api.js';

const ORT_DIR = '/vendor/onnxruntime-web/';
const MAX_THREADS = 4; // onnxruntime-web's own default cap: more threads than that rarely pay for a small network

// The smallest WebAssembly module that uses a SIMD instruction (i8x16.splat): valid only where
// SIMD is supported.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

let ortLoading = null;
function loadOrt() {
  ortLoading ??= import(`${ORT_DIR}ort.min.mjs`).then((ort) => {
    ort.env.wasm.wasmPaths = ORT_DIR;
    return ort;
  });
  return ortLoading;
}

// Why WebGPU cannot be used here, or null when it can.
async function webgpuRefusal() {
  if (!('gpu' in navigator)) return 'this browser has no WebGPU';
  try {
    return (await navigator.gpu.requestAdapter()) ? null : 'WebGPU is there but found no GPU adapter (no GPU, or it is disabled)';
  } catch (err) {
    return `WebGPU failed to start (${err.message})`;
  }
}

// The WebAssembly backend as this page can have it: {threads, simd, why}.
function wasmBackend(noGpu) {
  const simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  const threads = crossOriginIsolated ? Math.max(1, Math.min(MAX_THREADS, navigator.hardwareConcurrency || 1)) : 1;
  const how = crossOriginIsolated
    ? `${threads} thread${threads === 1 ? '' : 's'} (one per CPU core, at most ${MAX_THREADS}) and SIMD`
    : '1 thread and SIMD: this page is not cross-origin isolated, which threads need';
  return { name: 'wasm', label: 'WebAssembly (CPU)', threads, simd, why: `WebAssembly with ${how}, because ${noGpu}.` };
}

// -> {name: 'webgpu'|'wasm', label, threads?, why}; throws, saying why, where nothing can run.
export async function chooseBackend() {
  const refusal = await webgpuRefusal();
  if (!refusal) return { name: 'webgpu', label: 'WebGPU (GPU)', why: 'WebGPU, because this browser has it with a GPU adapter.' };
  const wasm = wasmBackend(refusal);
  if (!wasm.simd) {
    throw new Error(`This browser cannot run the network: ${refusal}, and its WebAssembly lacks SIMD, which onnxruntime-web needs. `
      + 'Stylize on the run’s dashboard renders on the server instead.');
  }
  return wasm;
}

// The run's model (or a checkpoint) exported to ONNX, loaded for `backend`: {session, inputs, backend}.
// A WebGPU session that fails to be made falls back to WebAssembly, saying so.
export async function loadNetwork(runId, backend, checkpoint) {
  const ort = await loadOrt();
  const url = exportUrl(runId, 'onnx') + (checkpoint ? `&checkpoint=${encodeURIComponent(checkpoint)}` : '');
  const res = await fetch(url);
  if (!res.ok) throw new Error(`The ONNX export failed: ${(await res.json().catch(() => null))?.error || res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const make = (b) => {
    // In a worker of its own (the proxy): the page stays responsive while a frame is computed.
    // (Taken on the first session only: the WebAssembly backend starts once per page.)
    if (b.name === 'wasm') Object.assign(ort.env.wasm, { numThreads: b.threads, proxy: true });
    return ort.InferenceSession.create(bytes, { executionProviders: [b.name], graphOptimizationLevel: 'all' });
  };
  const size = bytes.length; // (the proxy takes the bytes: they are empty here afterwards)
  try {
    return { ort, session: await make(backend), backend, bytes: size };
  } catch (err) {
    if (backend.name !== 'webgpu') throw err;
    const wasm = wasmBackend(`WebGPU could not load the network (${err.message})`);
    return { ort, session: await make(wasm), backend: wasm, bytes: size };
  }
}

// A synthesis export's noise inputs (noise_32 ... noise_1, coarsest first) as [{name, ratio}];
// null for a stylization export (image, noise, noise_factor).
export function synthesisInputs(session) {
  const names = session.inputNames;
  if (names.includes('image')) return null;
  return names.map((name) => ({ name, ratio: Number(name.split('_')[1]) }));
}
