// Hash routes: #/ (runs), #/new (wizard), #/runs/:id (dashboard), #/runs/:id/live (Live). Each view is
// mount(container, params) -> optional cleanup function.

const routes = [];
let cleanup = null;
let container = null;
let first = true;

export function route(pattern, view) {
  const keys = [];
  const regex = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, k) => {
    keys.push(k);
    return '([^/]+)';
  })}/?$`);
  routes.push({ regex, keys, view });
}

export function navigate(path) {
  if (location.hash === `#${path}`) render();
  else location.hash = path;
}

export function currentPath() {
  return location.hash.replace(/^#/, '') || '/';
}

function render() {
  const path = currentPath();
  if (typeof cleanup === 'function') {
    try {
      cleanup();
    } catch (err) {
      console.error(err); // eslint-disable-line no-console
    }
  }
  cleanup = null;
  container.replaceChildren();
  for (const { regex, keys, view } of routes) {
    const m = path.match(regex);
    if (!m) continue;
    const params = Object.fromEntries(keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
    cleanup = view(container, params);
    // Move focus to the new page's heading, for keyboard and screen reader users.
    const heading = container.querySelector('h1');
    if (heading && !first) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
    first = false;
    window.scrollTo(0, 0);
    return;
  }
  navigate('/');
}

export function start(el) {
  container = el;
  window.addEventListener('hashchange', render);
  render();
}
