// The socket.io connection to Node: run_state / worker_status messages, and run event
// subscriptions that survive reconnects without gaps or duplicates.
//
// Each subscription remembers the last seq it has handed on. On every (re)connect it is sent
// again as {run, after: lastSeq}; Node answers with the history after it, then the live stream.
// Anything at or below lastSeq is dropped, so a replay never shows an event twice. When the
// run's log is replaced by another (a command-line --resume in its folder: run_reset), its seqs
// start again from 1 and the subscriber's onReset() starts over (the views mount again).
import { MESSAGE } from './protocol.js';

const listeners = new Map(); // message name -> Set of functions
const subscriptions = new Map(); // run id -> {last, onEvent, onAck}
let socket = null;

function emitLocal(name, payload) {
  for (const fn of listeners.get(name) || []) {
    try {
      fn(payload);
    } catch (err) {
      console.error(err); // eslint-disable-line no-console
    }
  }
}

// Listen to MESSAGE.run_state, run_deleted or worker_status, or to socket.io's own 'connect' and
// 'disconnect'. Returns an unlisten function.
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}

function sendSubscribe(run, sub) {
  if (!socket?.connected) return; // the next 'connect' sends it
  socket.emit(MESSAGE.subscribe, { run, after: sub.last }, (ack) => {
    if (subscriptions.get(run) === sub) sub.onAck?.(ack || { ok: false, error: 'no answer from the server' });
  });
}

// Calls onEvent({run, seq, event}) for each event of the run with seq > after, once each,
// in order. onAck({ok, last} | {ok: false, error}) after each (re)subscription's history;
// onReset() when the run's log was replaced: what was handed on belongs to another file.
export function subscribe(run, { after = 0, onEvent, onAck, onReset } = {}) {
  const sub = { last: after, onEvent, onAck, onReset };
  subscriptions.set(run, sub);
  sendSubscribe(run, sub);
  return () => {
    if (subscriptions.get(run) !== sub) return;
    subscriptions.delete(run);
    if (socket?.connected) socket.emit(MESSAGE.unsubscribe, { run });
  };
}

// The socket.io client itself (the browser tests drop its transport to check reconnects).
export const rawSocket = () => socket;

export function connect() {
  if (socket) return socket;
  if (typeof window.io !== 'function') {
    // /socket.io/socket.io.js did not load: the page still works, without live updates.
    emitLocal('disconnect', 'the live connection library did not load');
    return null;
  }
  socket = window.io({ transports: ['websocket', 'polling'], reconnectionDelayMax: 5000 });
  socket.on('connect', () => {
    for (const [run, sub] of subscriptions) sendSubscribe(run, sub);
    emitLocal('connect');
  });
  socket.on('disconnect', (reason) => emitLocal('disconnect', reason));
  socket.on(MESSAGE.run_event, (msg) => {
    const sub = msg && subscriptions.get(msg.run);
    if (!sub || !Number.isInteger(msg.seq) || msg.seq <= sub.last) return;
    sub.last = msg.seq;
    sub.onEvent?.(msg);
  });
  socket.on(MESSAGE.run_reset, (msg) => {
    const sub = msg && subscriptions.get(msg.run);
    if (!sub) return;
    sub.last = 0;
    sub.onReset?.();
  });
  socket.on(MESSAGE.run_state, (msg) => msg?.run && emitLocal(MESSAGE.run_state, msg.run));
  socket.on(MESSAGE.run_deleted, (msg) => msg?.run && emitLocal(MESSAGE.run_deleted, msg.run));
  socket.on(MESSAGE.worker_status, (msg) => msg?.state && emitLocal(MESSAGE.worker_status, msg));
  return socket;
}
