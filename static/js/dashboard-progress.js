// A run dashboard's progress card: the bar, "Iteration n of N", speed, elapsed, remaining and the
// total loss. It follows the iteration events rather than the RunInfo, whose count lags them by up
// to a second; elapsed and remaining also move between events (the dashboard ticks it).
import { h } from './dom.js';
import { STATE, isActive, isEnded } from './protocol.js';
import { duration, int, loss, rate, roughDuration } from './format.js';
import { itPerS, progressFraction, settingOf } from './runinfo.js';

function stat(label, id) {
  const value = h('dd', { id, class: 'num' }, '–');
  return { el: h('div', { class: 'stat' }, h('dt', {}, label), value), value };
}

// Iterations per second over the run's own training (from its own first iteration to its last).
function averageSpeed(ev) {
  const a = ev.ownFirst;
  const b = ev.lastIteration;
  if (!a || !b || b.iteration <= a.iteration || !(b.time > a.time)) return null;
  return (b.iteration - a.iteration) / (b.time - a.time);
}

export class ProgressCard {
  constructor() {
    this.fill = h('div', { class: 'bar-fill' });
    this.bar = h('div', { class: 'bar bar-lg', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-label': 'Training progress', id: 'progress' }, this.fill);
    this.text = h('p', { class: 'progress-text', id: 'progress-text' });
    this.speed = stat('Speed', 'stat-speed');
    this.elapsed = stat('Elapsed', 'stat-elapsed');
    this.eta = stat('Remaining', 'stat-eta');
    this.loss = stat('Total loss', 'stat-loss');
    this.el = h('section', { class: 'card progress-card', 'aria-label': 'Progress' },
      h('div', { class: 'progress-top' }, this.text),
      this.bar,
      h('dl', { class: 'stats' }, this.speed.el, this.elapsed.el, this.eta.el, this.loss.el));
  }

  // A texture-synthesis run's total is style + diversity: no content term.
  setMode(mode) {
    this.loss.el.querySelector('dt').textContent = mode === 'synthesis' ? 'Total (style + diversity)' : 'Total loss';
  }

  // `ev`: what the dashboard gathered from the events (lastIteration, ownFirst). Returns the
  // iteration reached and, while the run is active, its speed: when the first preview comes.
  update(run, ev, now = Date.now() / 1000) {
    const s = run?.state ?? null;
    const it = ev.lastIteration?.iteration || 0;
    this.showFraction(run, s, it);
    // A continued run's record starts with its source's iterations: their rate and ETA were the
    // source's, so only its own events (and, before them, nothing) say how fast it goes.
    const info = run?.resumed_from && !ev.ownFirst ? null : ev.lastIteration;
    const current = itPerS({ images_per_s: info?.images_per_s, config: run?.config || {} });
    this.showSpeed(isEnded(s) ? averageSpeed(ev) : null, current, info);
    this.showTimes(run, s, info, ev.lastIteration, now);
    this.loss.value.textContent = ev.lastIteration ? loss(ev.lastIteration.total) : '–';
    return { iteration: it, speed: isActive(s) ? current : null };
  }

  showFraction(run, s, it) {
    const frac = progressFraction(run, it);
    this.fill.style.width = `${(frac * 100).toFixed(2)}%`;
    this.bar.setAttribute('aria-valuenow', String(Math.round(frac * 100)));
    this.bar.dataset.state = s || '';
    this.text.replaceChildren(
      h('strong', {}, `Iteration ${int(it)}`), ` of ${int(run?.iterations || 0)}`, h('span', { class: 'muted' }, ` · ${Math.floor(frac * 100)}%`));
  }

  // An ended run shows its average over its own training, not the last instant's rate.
  showSpeed(average, current, info) {
    const speed = average ?? current;
    this.speed.value.textContent = speed ? `${rate(speed)} it/s` : '–';
    this.speed.value.title = average ? 'On average over the run’s own iterations' : info?.images_per_s ? `${info.images_per_s} images/s` : '';
    this.speed.el.querySelector('dt').textContent = average ? 'Average speed' : 'Speed';
  }

  // `last`: the newest iteration event; its eta_s counts from its own time.
  showTimes(run, s, info, last, now) {
    const elapsed = run?.started ? (run.finished ?? (isActive(s) ? now : run.started)) - run.started : null;
    this.elapsed.value.textContent = elapsed !== null ? duration(elapsed) : '–';
    if (s !== STATE.running) {
      // (Not a constant: the states are the protocol's, loaded after this module.)
      const notTraining = { done: 'finished', stopped: STATE.stopped /* says so */, stopping: 'stopping…', queued: 'waiting' };
      this.eta.value.textContent = notTraining[s] || '–';
      return;
    }
    const eta = Number.isFinite(info?.eta_s) ? Math.max(0, info.eta_s - (last ? now - last.time : 0)) : null;
    this.eta.value.textContent = eta !== null ? duration(eta) : 'estimating…';
  }
}

// What the previews say before the first one: it comes at the run's preview_every, in about
// (iterations left / speed).
export function firstPreviewText(run, it, speed) {
  const every = run ? Number(settingOf(run, 'preview_every')) : null;
  if (!every) return 'The first preview appears after a few iterations.';
  const at = Math.min(run.iterations || every, every);
  if (isEnded(run.state)) return `No previews: the run ended before iteration ${int(at)}, when the first would have been made.`;
  const left = Math.max(0, at - it);
  const when = speed && it > 0 ? `, ${left ? `in ${roughDuration(left / speed)} at ${rate(speed)} it/s` : 'any moment now'}` : '';
  return `The first preview comes at iteration ${int(at)}${when}, then every ${int(every)} iterations.`;
}
