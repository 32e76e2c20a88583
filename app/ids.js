'use strict';
// Names that reach the worker (run ids, texture names, file path segments) are checked here
// first, so a traversal attempt is refused by Node before any request is made.
// No leading dot: neither '.' nor hidden files.
const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function isSafeName(s) {
  return typeof s === 'string' && s.length > 0 && s.length <= 200 && SAFE.test(s) && !s.includes('..');
}

// The segments of a raw (still percent-encoded) relative path, or null when any segment is
// unsafe. Decoding each segment ourselves catches %2e%2e and %2f, which a router would decode
// into '..' or '/' after matching.
function safeSegments(raw) {
  if (typeof raw !== 'string' || raw === '') return null;
  const segments = [];
  for (const part of raw.split('/')) {
    let name;
    try {
      name = decodeURIComponent(part);
    } catch {
      return null;
    }
    if (!isSafeName(name)) return null;
    segments.push(name);
  }
  return segments;
}

module.exports = { isSafeName, safeSegments };
