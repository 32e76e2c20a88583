// Run state badges and the wording around states.
import { h } from './dom.js';

const STATE_LABELS = {
  queued: 'Queued',
  running: 'Running',
  stopping: 'Stopping',
  done: 'Done',
  stopped: 'Stopped',
  failed: 'Failed',
};


export function badge(state) {
  return h('span', { class: `badge badge-${state || 'unknown'}`, dataset: { state: state || '' } },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), STATE_LABELS[state] || state || 'Unknown');
}
