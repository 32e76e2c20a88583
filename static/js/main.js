// Boot: what the browser shares with the trainer (loaded once), live connection, shared state,
// status indicator, routes.
import { api } from './api.js';
import { initProtocol } from './protocol.js';
import * as socket from './socket.js';
import * as store from './store.js';
import { mountStatus } from './status.js';
import { route, start, currentPath } from './router.js';
import { runsView } from './runs.js';
import { wizardView } from './wizard.js';
import { dashboardView } from './dashboard.js';
import { compareView, sweepView } from './compare.js';
import { liveView } from './live.js';

function markNav() {
  const path = currentPath();
  for (const a of document.querySelectorAll('[data-nav]')) {
    const active = (a.dataset.nav === 'runs' && (path === '/' || /^\/(runs|sweeps|compare)\//.test(path))) ||
      (a.dataset.nav === 'new' && path.startsWith('/new'));
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// The skip link must not change the hash (the router owns it): it moves focus instead.
function skipLink() {
  const main = document.getElementById('main');
  main.setAttribute('tabindex', '-1');
  document.querySelector('.skip-link')?.addEventListener('click', (e) => {
    e.preventDefault();
    const target = main.querySelector('h1') || main;
    target.tabIndex = -1;
    target.focus();
  });
}

function boot() {
  skipLink();
  socket.connect();
  store.init();
  mountStatus(document.getElementById('worker-status'), document.getElementById('banner'));
  route('/', runsView);
  route('/new', wizardView);
  route('/runs/:id', dashboardView);
  route('/runs/:id/live', liveView);
  route('/runs/:id/live/:iteration', liveView); // a checkpoint's network (the comparison's cells)
  route('/sweeps/:id', sweepView);
  route('/compare/:ids', compareView);
  window.addEventListener('hashchange', markNav);
  markNav();
  start(document.getElementById('main'));
}

// socket.io's client is a classic deferred script; modules run after it.
api.protocol().then(initProtocol).then(boot, (err) => {
  document.getElementById('main').textContent = `TN Studio could not start: ${err.message} Reload the page.`;
});
