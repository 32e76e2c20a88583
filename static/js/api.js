// The HTTP API (docs/PROTOCOL.md). Every call resolves with the JSON body or throws an
// ApiError whose message is the server's {error} text.

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, { json, body, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError('Cannot reach the TN Studio server. Is it still running?', 0);
  }
  return res;
}

async function errorOf(res) {
  let message = `${res.status} ${res.statusText}`;
  try {
    const data = await res.json();
    if (data && data.error) message = data.error;
  } catch { /* not JSON */ }
  return new ApiError(message, res.status);
}

async function json(method, path, options) {
  const res = await request(method, path, options);
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

export const runFile = (id, path) =>
  `/api/runs/${encodeURIComponent(id)}/files/${String(path).split('/').map(encodeURIComponent).join('/')}`;
export const videoFile = (job) => `/api/videos/${encodeURIComponent(job)}/file`;
export const exportUrl = (id, format) => `/api/runs/${encodeURIComponent(id)}/export?format=${encodeURIComponent(format)}`;
export const textureImage = (name) => `/api/textures/${encodeURIComponent(name)}/image`;

export const api = {
  health: () => json('GET', '/api/health'),
  protocol: () => json('GET', '/api/protocol'),
  device: () => json('GET', '/api/device'),
  runs: () => json('GET', '/api/runs'),
  run: (id) => json('GET', `/api/runs/${encodeURIComponent(id)}`),
  createRun: (config) => json('POST', '/api/runs', { json: { config } }),
  startSweep: (config, sweep) => json('POST', '/api/sweeps', { json: { config, sweep } }),
  useCheckpoint: (id, iteration) => json('POST', `/api/runs/${encodeURIComponent(id)}/model`, { json: { iteration } }),
  stopRun: (id) => json('POST', `/api/runs/${encodeURIComponent(id)}/stop`),
  deleteRun: (id) => request('DELETE', `/api/runs/${encodeURIComponent(id)}`).then(async (res) => {
    if (!res.ok) throw await errorOf(res);
  }),
  // New samples of a texture-synthesis run: {samples: [{seed, path, tiled?}], width, height, ms}.
  synthesize: (id, body) => json('POST', `/api/runs/${encodeURIComponent(id)}/synthesize`, { json: body }),
  continueRun: (id, body) => json('POST', `/api/runs/${encodeURIComponent(id)}/continue`, { json: body }),
  scanDataset: (path, signal) => json('POST', '/api/datasets/scan', { json: { path }, signal }),
  textures: () => json('GET', '/api/textures'),
  uploadTexture: (file) => json('POST', '/api/textures', {
    body: file,
    headers: { 'Content-Type': file.type || 'application/octet-stream', 'X-Filename': encodeURIComponent(file.name) },
  }),
  // A video job ({job: {id, state, done, total, error, file}}), then its progress.
  startVideo: ({ run, checkpoint, noise, seed }, file) => {
    const q = new URLSearchParams({ run, noise: String(noise), seed: String(seed) });
    if (checkpoint) q.set('checkpoint', checkpoint);
    return json('POST', `/api/videos?${q}`, {
      body: file, headers: { 'Content-Type': file.type || 'application/octet-stream', 'X-Filename': encodeURIComponent(file.name) },
    });
  },
  videoJob: (job) => json('GET', `/api/videos/${encodeURIComponent(job)}`),
  // Resolves with {blob, width, height, ms}.
  async stylize({ run, checkpoint, noise, seed, size }, file, signal) {
    const q = new URLSearchParams({ run });
    if (checkpoint) q.set('checkpoint', checkpoint);
    if (noise !== undefined) q.set('noise', String(noise));
    if (seed !== undefined) q.set('seed', String(seed));
    if (size) q.set('size', String(size));
    const res = await request('POST', `/api/stylize?${q}`, {
      body: file, signal, headers: { 'Content-Type': file.type || 'application/octet-stream', Accept: 'image/png' },
    });
    if (!res.ok) throw await errorOf(res);
    return {
      blob: await res.blob(),
      width: Number(res.headers.get('X-Image-Width')) || null,
      height: Number(res.headers.get('X-Image-Height')) || null,
      ms: Number(res.headers.get('X-Stylize-Ms')) || null,
    };
  },
};
