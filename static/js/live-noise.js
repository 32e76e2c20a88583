// The Live view's noise: uniform in [0, 1), the same for a seed everywhere, drawn from a hash of
// (seed, index) rather than a stateful generator, so that Python reproduces it in a few numpy
// lines (tests/browser/live.test.js checks the page against PyTorch with it) and any part of it
// can be drawn without the rest. And, for texture synthesis, noise moved smoothly over time.

// Chris Wellons' lowbias32: a 32-bit integer hash whose every output bit depends on every input bit.
function lowbias32(x) {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const UNIT = 2 ** -24; // 24 bits: every value is exact in float32

// `count` values of seed `seed`'s noise: value i = (lowbias32(lowbias32(i) ^ key) >> 8) / 2^24,
// key = lowbias32(seed ^ 0x9e3779b9). `offset` starts at value `offset` of the sequence.
export function uniformNoise(seed, count, out = new Float32Array(count), offset = 0) {
  const key = lowbias32((seed ^ 0x9e3779b9) >>> 0);
  for (let i = 0; i < count; i++) out[i] = (lowbias32((lowbias32(i + offset) ^ key) >>> 0) >>> 8) * UNIT;
  return out;
}

// Φ, the standard normal CDF (Abramowitz & Stegun 7.1.26: |error| < 1.5e-7).
export function normalCdf(z) {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

// Φ⁻¹ for p in (0, 1) (Acklam's rational approximation: relative error < 1.2e-9).
const A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
export function normalQuantile(p) {
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}

// Noise that flows: at phase t, Φ(cos t·Φ⁻¹(a) + sin t·Φ⁻¹(b)) for the noises a, b of seeds s and
// s + 1 (worker.synthesize's loops take the same path). cos² + sin² = 1 keeps every value exactly
// uniform at every t, the path is smooth in t, and t = 2π comes back to t = 0 (which is seed s's noise).
export class FlowingNoise {
  constructor(seed, count) {
    const a = uniformNoise(seed, count);
    const b = uniformNoise(seed + 1, count);
    this.za = new Float32Array(count);
    this.zb = new Float32Array(count);
    // The midpoint of each value's 2^-24 bin: never exactly 0, whose quantile is -infinity.
    for (let i = 0; i < count; i++) {
      this.za[i] = normalQuantile(a[i] + UNIT / 2);
      this.zb[i] = normalQuantile(b[i] + UNIT / 2);
    }
    this.out = new Float32Array(count);
  }

  at(t) {
    const c = Math.cos(t);
    const s = Math.sin(t);
    const { za, zb, out } = this;
    for (let i = 0; i < out.length; i++) out[i] = normalCdf(c * za[i] + s * zb[i]);
    return out;
  }
}
