// The Live view's frame rate and where a frame's time goes (into the network's inputs, the
// network, onto the canvas), over the last two seconds, written twice a second. The figures are
// also in the elements' data attributes (bench/live_fps.js reads them).
const WINDOW_MS = 2000;
const EVERY_MS = 500;

export class FrameMeter {
  constructor(fpsEl, timingEl) {
    Object.assign(this, { fpsEl, timingEl, frames: [], written: 0 });
  }

  // ms: {grab, network, show} of the frame that just ended.
  add(ms) {
    const now = performance.now();
    this.frames.push({ end: now, ...ms });
    while (this.frames.length > 2 && now - this.frames[0].end > WINDOW_MS) this.frames.shift();
    if (now - this.written >= EVERY_MS) this.write(now);
  }

  write(now) {
    this.written = now;
    const f = this.frames;
    if (f.length < 2) return;
    const fps = (f.length - 1) / ((f.at(-1).end - f[0].end) / 1000);
    const mean = (key) => f.reduce((sum, x) => sum + x[key], 0) / f.length;
    const [grab, network, show] = ['grab', 'network', 'show'].map(mean);
    this.fpsEl.textContent = `${fps.toFixed(1)} fps`;
    this.fpsEl.dataset.fps = fps.toFixed(2);
    this.timingEl.textContent = `a frame: ${Math.round(grab)} ms in, ${Math.round(network)} ms network, ${Math.round(show)} ms out`;
    Object.assign(this.timingEl.dataset, { grab: grab.toFixed(1), network: network.toFixed(1), show: show.toFixed(1) });
  }
}
