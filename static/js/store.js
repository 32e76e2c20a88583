// What the whole page knows: the runs (from GET /api/runs and run_state messages) and the
// worker's status. Views listen for changes.
import { api } from './api.js';
import * as socket from './socket.js';
import { MESSAGE, WORKER } from './protocol.js';

const runs = new Map(); // id -> RunInfo
const runListeners = new Set();
const statusListeners = new Set();
let worker = null; // {state, message?}: starting until said otherwise (init, once the protocol is loaded)
let workerKnown = false; // until /api/health or worker_status has said
let serverConnected = true;
let loaded = false;
let loadError = null;

function notifyRuns(changed) {
  for (const fn of runListeners) fn(changed);
}

function notifyStatus() {
  for (const fn of statusListeners) fn(status());
}

export function status() {
  return { worker, serverConnected };
}

// An answer to a request made before a state change can arrive after the run_state message
// that announced it: the info with the higher rev is the newer one.
const isStale = (info) => (runs.get(info.id)?.rev ?? -Infinity) > (info.rev ?? Infinity);

export function upsertRun(info) {
  if (!info?.id || isStale(info)) return;
  runs.set(info.id, { ...runs.get(info.id), ...info });
  notifyRuns(info.id);
}

export function removeRun(id) {
  if (runs.delete(id)) notifyRuns(id);
}

export const getRun = (id) => runs.get(id);

// Newest first.
export function allRuns() {
  return [...runs.values()].sort((a, b) => (b.created || 0) - (a.created || 0) || (a.id < b.id ? 1 : -1));
}

export const runsLoaded = () => ({ loaded, error: loadError });

// False only while the worker is known not to be up (its API answers would be 503s).
export const workerUp = () => !workerKnown || worker.state === WORKER.up;

let inFlight = null;
let again = false;

// GET /api/runs. Calls made while one is in flight share one more fetch after it; none is made
// while the worker is known to be down (it answers 503; its return triggers a refresh).
export function refreshRuns() {
  if (!workerUp()) {
    if (!loaded) notifyRuns(null);
    return Promise.resolve();
  }
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = fetchRuns().finally(() => {
    inFlight = null;
    if (again) {
      again = false;
      refreshRuns();
    }
  });
  return inFlight;
}

async function fetchRuns() {
  try {
    const data = await api.runs();
    const seen = new Set();
    for (const info of data.runs || []) {
      seen.add(info.id);
      if (!isStale(info)) runs.set(info.id, info);
    }
    for (const id of [...runs.keys()]) if (!seen.has(id)) runs.delete(id);
    loaded = true;
    loadError = null;
  } catch (err) {
    loadError = err.message;
  }
  notifyRuns(null);
}

export function onRuns(fn) {
  runListeners.add(fn);
  return () => runListeners.delete(fn);
}

export function onStatus(fn) {
  statusListeners.add(fn);
  return () => statusListeners.delete(fn);
}

function setWorker(next) {
  const was = worker.state;
  worker = next;
  workerKnown = true;
  notifyStatus();
  // A worker that comes back may have changed runs (a trainer that ended meanwhile).
  if (next.state === WORKER.up && was !== WORKER.up) refreshRuns();
}

export function init() {
  worker = { state: WORKER.starting };
  socket.on(MESSAGE.run_state, upsertRun);
  socket.on(MESSAGE.run_deleted, removeRun);
  socket.on(MESSAGE.worker_status, setWorker);
  socket.on('connect', () => {
    const was = serverConnected;
    serverConnected = true;
    notifyStatus();
    if (!was) refreshRuns();
  });
  socket.on('disconnect', () => {
    serverConnected = false;
    notifyStatus();
  });
  // The worker's state first: while it is starting, the runs are fetched when it is up.
  api.health().then((h) => {
    if (h.worker && typeof h.worker === 'object') setWorker(h.worker);
    else if (typeof h.worker === 'string') setWorker({ state: h.worker });
  }).catch(() => {}).finally(() => {
    if (!loaded) refreshRuns();
  });
}
