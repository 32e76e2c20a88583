'use strict';
// Names that reach the worker (run ids, texture names, file path segments) are checked here
// first, so a traversal attempt is refused by Node before any request is made.
// No leading dot: neither '.' nor hidden files.
const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const { RUN_ID } = require('./protocol');
const { HttpError } = require('./http-error');

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

// A run id as the worker service names run folders (worker/protocol.json).
const isRunId = (s) => typeof s === 'string' && RUN_ID.test(s) && !s.includes('..');

// An upload's file name (X-Filename), its name only: the worker makes its own names from it. Browsers send it
// percent-encoded, since header values are bytes.
function uploadName(header) {
  if (!header) throw new HttpError(400, 'the X-Filename header (the file\'s name) is required');
  let name = header;
  try {
    name = decodeURIComponent(header);
  } catch { /* sent as is */ }
  if (name.length > 255 || /[/\\\0]/.test(name) || name === '.' || name === '..') {
    throw new HttpError(400, 'X-Filename must be a plain file name');
  }
  return name;
}

module.exports = { isRunId, isSafeName, safeSegments, uploadName };
