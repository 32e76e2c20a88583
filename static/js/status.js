// The worker's status: a small pill in the header, and a banner when it is down or when the
// page has lost its connection to the server.
import { h, icon, replace } from './dom.js';
import * as store from './store.js';
import { WORKER } from './protocol.js';

const LABELS = { up: 'Worker ready', starting: 'Worker starting', down: 'Worker down' };

export function mountStatus(pill, banner) {
  let startingSince = Date.now();
  let timer = null;

  function render({ worker, serverConnected }) {
    const state = serverConnected ? worker.state : 'offline';
    pill.dataset.state = state;
    pill.title = serverConnected ? (worker.message || LABELS[worker.state] || worker.state) : 'No connection to the server';
    replace(pill, h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { class: 'pill-label' }, serverConnected ? (LABELS[worker.state] || worker.state) : 'Offline'));

    if (worker.state !== WORKER.starting) startingSince = null;
    else startingSince ??= Date.now();

    let message = null;
    let tone = 'warn';
    if (!serverConnected) {
      message = 'Lost the connection to the TN Studio server. Reconnecting… Training continues in the background.';
      tone = 'error';
    } else if (worker.state === WORKER.down) {
      const why = worker.message ? `: ${worker.message.replace(/\.$/, '')}` : '; it restarts automatically';
      message = `The training worker is down${why}. Trainings already running keep going.`;
      tone = 'error';
    } else if (worker.state === WORKER.starting && startingSince && Date.now() - startingSince > 2500) {
      message = `The training worker is starting${worker.message && worker.message !== 'starting the worker service' ? ` (${worker.message})` : ''}…`;
      tone = 'info';
    }
    clearTimeout(timer);
    if (worker.state === WORKER.starting && !message) timer = setTimeout(() => render(store.status()), 2600);
    if (!message) {
      banner.replaceChildren();
      return;
    }
    replace(banner, h('div', { class: `banner banner-${tone}`, role: tone === 'error' ? 'alert' : 'status' },
      h('div', { class: 'banner-inner' }, icon(tone === 'info' ? 'chip' : 'alert'), h('span', {}, message))));
  }

  render(store.status());
  store.onStatus(render);
}
