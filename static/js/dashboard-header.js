// A run dashboard's head: the texture's thumbnail, the run's name and state, and a line of where
// it comes from (created, from the command line, continued from, one of a sweep, device, photos).
// Its parts are rebuilt only when what they show changes: the dashboard renders every frame while
// a run trains, and a rebuilt link or thumbnail would flicker.
import { h, renderIf, replace } from './dom.js';
import { badge } from './badges.js';
import { int, title, when } from './format.js';
import { MODE_LABELS, originNote, runName, textureName, textureSrc } from './runinfo.js';

export class RunHeader {
  constructor(id) {
    this.id = id;
    this.name = h('h1', { class: 'run-h1' }, 'Run');
    this.badgeSlot = h('span', { id: 'run-state' });
    this.subline = h('p', { class: 'page-sub run-meta' });
    this.thumb = h('img', { class: 'head-texture', alt: '', width: 52, height: 52 });
    this.el = h('div', { class: 'run-title-block' }, this.thumb,
      h('div', {}, h('div', { class: 'title-line' }, this.name, this.badgeSlot), this.subline));
  }

  // `mode`: the run's mode once known, which its start event can say before its RunInfo does.
  update(run, mode) {
    const s = run?.state ?? null;
    const name = run ? runName(run) : `Run ${this.id}`;
    this.name.textContent = name;
    document.title = `${name}${s ? ` · ${s}` : ''} · TN Studio`;
    this.showTexture(run);
    renderIf(this.badgeSlot, s, () => replace(this.badgeSlot, s ? badge(s) : null));
    renderIf(this.subline, [run?.created, run?.device, run?.config?.data_dir, run?.resumed_from, run?.sweep?.id, mode, run?.name],
      () => replace(this.subline, this.facts(run, mode)));
  }

  showTexture(run) {
    const src = run ? textureSrc(run) : null;
    // Set only when it changes: a new src reloads the picture.
    if (src && this.thumb.getAttribute('src') !== src) {
      this.thumb.src = src;
      this.thumb.alt = `Texture: ${title(textureName(run))}`;
    }
    this.thumb.hidden = !src;
  }

  facts(run, mode) {
    const parts = [h('code', { class: 'run-id' }, this.id)];
    // A named run's title no longer says its texture.
    if (run?.name) parts.push(' · ', h('span', { class: 'run-texture-name' }, `texture ${title(textureName(run))}`));
    if (mode === 'synthesis') parts.push(' · ', h('span', { class: 'mode-tag', id: 'run-mode' }, MODE_LABELS.synthesis));
    if (run?.created) parts.push(` · created ${when(run.created)}`);
    if (originNote(run)) parts.push(' · ', h('span', { id: 'run-origin' }, originNote(run)));
    const from = run?.resumed_from;
    if (from) {
      parts.push(' · continued from ', h('a', { href: `#/runs/${encodeURIComponent(from.run)}`, id: 'resumed-from' },
        `iteration ${int(from.iteration)} of ${from.run}`));
    }
    if (run?.sweep) {
      parts.push(' · one of the sweep ', h('a', { href: `#/sweeps/${encodeURIComponent(run.sweep.id)}`, id: 'sweep-link' }, run.sweep.name));
    }
    if (run?.device) parts.push(` · ${run.device}`);
    if (run?.config?.data_dir) parts.push(' · photos ', h('code', {}, run.config.data_dir));
    return parts;
  }
}
