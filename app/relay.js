'use strict';
// Browsers' socket.io connections: the service's run_event / run_state relayed, subscriptions
// served history-then-live, worker_status broadcast.
//
// Each subscribed socket joins the room `run:<id>` and remembers the last seq it was sent for
// that run. Delivery is per socket, not one room broadcast, because the seq it has reached is
// what makes "no gap, no duplicate" hold in every case: while its history is being fetched its
// live events are buffered; anything at or below its seq is dropped; a jump ahead (events
// written while the worker service was down are not relayed live by the next one) fetches the
// missing history before going on; when the service comes back every subscription
// catches up from its own seq; and when a run's log is replaced (a command-line --resume in its
// folder: run_reset) every subscription to it starts again from seq 0, and its browser is told.
const { isRunId } = require('./ids');
const { WorkerUnavailable } = require('./worker');
const { MESSAGE, WORKER } = require('./protocol');

const room = (run) => `run:${run}`;

function attachRelay(io, worker) {
  const subscriptions = (socket) => (socket.data.subs ??= new Map());

  function send(socket, sub, msg) {
    socket.emit(MESSAGE.run_event, msg);
    sub.last = msg.seq;
  }

  // A live message: the next one is sent, an old one dropped, one ahead starts a catch-up.
  function deliver(socket, sub, msg) {
    if (sub.buffer) return void sub.buffer.push(msg);
    if (msg.seq <= sub.last) return;
    if (msg.seq === sub.last + 1) return send(socket, sub, msg);
    sub.buffer = [msg];
    catchUp(socket, sub).catch(() => {});
  }

  // Sends the run's events after sub.last from the service's history, then whatever arrived
  // live meanwhile. Everything after the history ack runs synchronously, so no live event can
  // slip between the two. Live events buffered meanwhile follow the history without a gap
  // check: the history has just said what exists.
  async function catchUp(socket, sub) {
    if (sub.fetching) return null;
    sub.fetching = true;
    sub.buffer ??= [];
    let ack;
    try {
      ack = await worker.command('history', { run: sub.run, after: sub.last });
    } catch (err) {
      // Worker down: the next 'up' catches every subscription up. Worker slow: try again soon.
      if (worker.up) setTimeout(() => current(socket, sub) && catchUp(socket, sub).catch(() => {}), 1000).unref();
      throw err;
    } finally {
      sub.fetching = false;
    }
    if (!current(socket, sub)) return ack;
    if (!ack.ok) {
      unsubscribe(socket, sub.run);
      return ack;
    }
    for (const { seq, event } of ack.events) {
      if (seq > sub.last) send(socket, sub, { run: sub.run, seq, event });
    }
    const buffered = sub.buffer;
    sub.buffer = null;
    for (const msg of buffered) if (msg.seq > sub.last) send(socket, sub, msg);
    return ack;
  }

  // False once the socket unsubscribed, or subscribed again with another `after`.
  const current = (socket, sub) => socket.connected && subscriptions(socket).get(sub.run) === sub;

  function unsubscribe(socket, run) {
    subscriptions(socket).delete(run);
    socket.leave(room(run));
  }

  io.on('connection', (socket) => {
    socket.emit(MESSAGE.worker_status, worker.status);

    // {run, after}; the optional ack says when the history has been sent ({ok, last} or {ok: false, error}).
    socket.on(MESSAGE.subscribe, async (payload, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const { run, after = 0 } = payload && typeof payload === 'object' ? payload : {};
      if (!isRunId(run)) return reply({ ok: false, error: 'subscribe needs {run: a run id, after}' });
      if (!Number.isSafeInteger(after) || after < 0) {
        return reply({ ok: false, error: 'after must be the last seq seen (an integer, 0 for all)' });
      }
      const sub = { run, last: after, buffer: [], fetching: false };
      subscriptions(socket).set(run, sub);
      socket.join(room(run));
      try {
        const result = await catchUp(socket, sub);
        reply(!result || result.ok ? { ok: true, last: sub.last } : { ok: false, error: result.error });
      } catch (err) {
        // Worker down: the subscription stays, and catches up when the worker is back.
        reply({ ok: false, error: err instanceof WorkerUnavailable ? `${err.message}; the events follow when it is back` : err.message });
      }
    });

    socket.on(MESSAGE.unsubscribe, (payload) => {
      if (payload && isRunId(payload.run)) unsubscribe(socket, payload.run);
    });
  });

  worker.on(MESSAGE.run_event, (msg) => {
    if (!msg || !isRunId(msg.run) || !Number.isSafeInteger(msg.seq)) return;
    for (const id of io.sockets.adapter.rooms.get(room(msg.run)) ?? []) {
      const socket = io.sockets.sockets.get(id);
      const sub = socket && subscriptions(socket).get(msg.run);
      if (sub) deliver(socket, sub, msg);
    }
  });

  worker.on(MESSAGE.run_reset, (msg) => {
    if (!msg || !isRunId(msg.run)) return;
    for (const id of io.sockets.adapter.rooms.get(room(msg.run)) ?? []) {
      const socket = io.sockets.sockets.get(id);
      if (!socket || !subscriptions(socket).has(msg.run)) continue;
      // A new subscription object: a history fetch of the old one in flight is dropped (current()).
      subscriptions(socket).set(msg.run, { run: msg.run, last: 0, buffer: null, fetching: false });
      socket.emit(MESSAGE.run_reset, { run: msg.run });
    }
  });
  worker.on(MESSAGE.run_state, (msg) => io.emit(MESSAGE.run_state, msg));
  worker.on(MESSAGE.run_deleted, (msg) => io.emit(MESSAGE.run_deleted, msg));

  worker.on('status', (status) => {
    io.emit(MESSAGE.worker_status, status);
    if (status.state !== WORKER.up) return;
    for (const socket of io.sockets.sockets.values()) {
      for (const sub of subscriptions(socket).values()) catchUp(socket, sub).catch(() => {});
    }
  });
}

module.exports = { attachRelay };
