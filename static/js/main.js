// Boot: live connection, shared state, status indicator, routes.
import * as socket from './socket.js';
import * as store from './store.js';
import { mountStatus } from './status.js';
import { route, start, currentPath } from './router.js';
import { runsView } from './runs.js';
import { wizardView } from './wizard.js';
import { dashboardView } from './dashboard.js';

function markNav() {
  const path = currentPath();
  for (const a of document.querySelectorAll('[data-nav]')) {
    const active = (a.dataset.nav === 'runs' && (path === '/' || path.startsWith('/runs'))) ||
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
  window.addEventListener('hashchange', markNav);
  markNav();
  start(document.getElementById('main'));
}

// socket.io's client is a classic deferred script; modules run after it.
boot();
