'use strict';
// DNS rebinding: a page on any web site whose name is re-pointed to 127.0.0.1 is same-origin
// with this server (its requests carry `Host: evil.example:3000` and a matching Origin), so the
// Origin check alone lets it use the whole API. The server therefore answers only requests
// whose Host names this machine: localhost, 127.0.0.1, [::1], the HOST it listens on, and the
// names in ALLOWED_HOSTS (comma-separated), as Jupyter, webpack-dev-server and Vite do.
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD = ['0.0.0.0', '::', '[::]'];

const names = (list) => String(list || '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
const bracketed = (host) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

// The set of names a server listening on `listenHost` answers to. Listening on every interface
// without naming the hosts clients will use is refused: nothing but localhost could reach it.
function allowedHosts(listenHost, extra) {
  const allowed = new Set([...LOOPBACK, ...names(extra).map(bracketed)]);
  const host = String(listenHost || '127.0.0.1').toLowerCase();
  if (WILDCARD.includes(host)) {
    if (!names(extra).length) {
      throw new Error(`HOST=${listenHost} opens TN Studio to your network. Set ALLOWED_HOSTS to the names or addresses `
        + 'other machines will use (for example ALLOWED_HOSTS=192.168.1.20,studio.lan), or leave HOST unset.');
    }
  } else {
    allowed.add(bracketed(host));
  }
  return allowed;
}

// 'localhost:3000' -> 'localhost', '[::1]:3000' -> '[::1]'; null when malformed.
function hostName(header) {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(String(header || '').toLowerCase());
  return m ? m[1] : null;
}

const hostAllowed = (headers, allowed) => allowed.has(hostName(headers.host));

// Express middleware over every route and static file; `allowed()` gives the current set.
function hostOnly(allowed) {
  return (req, res, next) => {
    if (hostAllowed(req.headers, allowed())) return next();
    const name = hostName(req.headers.host) || '(none)';
    res.status(403).type('text/plain').send(`TN Studio answers only to its own names (localhost and ALLOWED_HOSTS); `
      + `this request was for ${name}. To reach it by that name, start it with ALLOWED_HOSTS=${name}.`);
  };
}

module.exports = { allowedHosts, hostAllowed, hostName, hostOnly };
