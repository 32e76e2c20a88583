// One Live frame through the network: pixels into its planar float32 inputs, the session run,
// its output back into pixels. Stylization takes a picture (a canvas drawn from the source),
// the noise of a seed and the noise factor; synthesis takes one flowing noise per scale.
// Each frame's tensors stay readable in `last` (the test checks them against PyTorch). The inputs
// given to a run are its own copies: the WebAssembly backend's worker takes (transfers) them.
import { FlowingNoise, uniformNoise } from './live-noise.js';

// RGBA bytes -> 3 planes of w*h values in [0, 1] (the export's NCHW image).
function toPlanes(rgba, n, out) {
  for (let i = 0; i < n; i++) {
    out[i] = rgba[4 * i] / 255;
    out[n + i] = rgba[4 * i + 1] / 255;
    out[2 * n + i] = rgba[4 * i + 2] / 255;
  }
  return out;
}

// 3 planes -> an opaque ImageData (Uint8ClampedArray clamps and rounds).
export function toImageData(planes, w, h) {
  const n = w * h;
  const image = new ImageData(w, h);
  const px = image.data;
  for (let i = 0; i < n; i++) {
    px[4 * i] = planes[i] * 255;
    px[4 * i + 1] = planes[n + i] * 255;
    px[4 * i + 2] = planes[2 * n + i] * 255;
    px[4 * i + 3] = 255;
  }
  return image;
}

// Something drawn again for every (seed, size) only: the noise, which holds still between frames.
function cached(make) {
  let key = null;
  let value = null;
  return (...args) => {
    const k = args.join();
    if (k !== key) [key, value] = [k, make(...args)];
    return value;
  };
}

export class Stylizer {
  constructor({ ort, session }) {
    Object.assign(this, { ort, session, last: null });
    this.canvas = document.createElement('canvas');
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    this.noiseOf = cached((seed, n) => uniformNoise(seed, 3 * n));
  }

  // source: something drawImage takes, of size sw x sh; -> {output planes, w, h, ms: {grab, network}}.
  async run({ source, sw, sh, w, h, mirror, factor, seed }) {
    const t0 = performance.now();
    const { canvas, ctx, ort } = this;
    if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
    ctx.setTransform(mirror ? -1 : 1, 0, 0, 1, mirror ? w : 0, 0);
    ctx.drawImage(source, 0, 0, sw, sh, 0, 0, w, h);
    const image = toPlanes(ctx.getImageData(0, 0, w, h).data, w * h, new Float32Array(3 * w * h));
    const noise = this.noiseOf(seed, w * h);
    const t1 = performance.now();
    this.last = { w, h, seed, factor, mirror, image: image.slice(), noise, output: null };
    const result = await this.session.run({
      image: new ort.Tensor('float32', image, [1, 3, h, w]),
      noise: new ort.Tensor('float32', noise.slice(), [1, 3, h, w]),
      noise_factor: new ort.Tensor('float32', new Float32Array([factor]), []),
    });
    const output = result.output.data;
    this.last.output = output;
    return { output, w, h, ms: { grab: t1 - t0, network: performance.now() - t1 } };
  }
}

export class Synthesizer {
  // inputs: [{name, ratio}], coarsest first (live-engine.synthesisInputs).
  constructor({ ort, session }, inputs) {
    Object.assign(this, { ort, session, inputs, last: null });
    this.flowOf = cached((seed, w, h) => new FlowingNoise(seed, this.shapes(w, h).reduce((sum, s) => sum + s.count, 0)));
  }

  // Each scale's noise is (1, 3, ceil(h/r), ceil(w/r)), as the export takes it.
  shapes(w, h) {
    return this.inputs.map(({ name, ratio }) => {
      const dims = [1, 3, Math.ceil(h / ratio), Math.ceil(w / ratio)];
      return { name, dims, count: 3 * dims[2] * dims[3] };
    });
  }

  // phase: where on the flow's closed path (radians); -> as Stylizer.run.
  async run({ w, h, seed, phase }) {
    const t0 = performance.now();
    const noise = this.flowOf(seed, w, h).at(phase);
    const feeds = {};
    let at = 0;
    for (const { name, dims, count } of this.shapes(w, h)) {
      feeds[name] = new this.ort.Tensor('float32', noise.slice(at, at + count), dims);
      at += count;
    }
    const t1 = performance.now();
    const result = await this.session.run(feeds);
    const output = result.output.data;
    this.last = { w, h, seed, phase, output };
    return { output, w, h, ms: { grab: t1 - t0, network: performance.now() - t1 } };
  }
}
