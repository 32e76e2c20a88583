'use strict';
// Refuses requests made by other web sites' pages. A page anywhere can send a "simple"
// cross-origin POST, or open a WebSocket, to localhost; the browser then sends an Origin
// header that does not match the Host it is talking to.
function sameOrigin(headers) {
  const origin = headers.origin;
  if (!origin) return true; // not from a browser page (curl, tests, same-origin GET)
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}

function sameOriginOnly(req, res, next) {
  if (sameOrigin(req.headers)) return next();
  res.status(403).json({ error: 'requests from other sites are refused' });
}

module.exports = { sameOrigin, sameOriginOnly };
