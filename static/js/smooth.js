// Exponential moving average with bias correction (as TensorBoard draws it): the first
// points are not pulled towards zero. alpha 0 = raw values.
export function ema(values, alpha) {
  if (!alpha) return values.slice();
  const out = new Array(values.length);
  let acc = 0;
  let weight = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    acc = alpha * acc + (1 - alpha) * v;
    weight = alpha * weight + (1 - alpha);
    out[i] = acc / weight;
  }
  return out;
}
