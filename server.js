'use strict';
// `node server`: TN Studio on http://127.0.0.1:3000 (HOST and PORT override; PORT=0 any free
// port). Ctrl-C / SIGTERM stop the worker service, whose trainers save a checkpoint first.
const { createApp } = require('./app');

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 3000);
const studio = createApp();

studio.listen(port, host).then(({ port: actual }) => {
  const shown = ['127.0.0.1', '0.0.0.0', '::', '::1'].includes(host) ? 'localhost' : host;
  console.log(`TN Studio: http://${shown}:${actual}`);
}, (err) => {
  if (err.code === 'EADDRINUSE') console.error(`Port ${port} is in use: start with PORT=3001 node server`);
  else console.error(err.message);
  process.exit(1);
});

studio.worker.on('status', ({ state, message }) => console.error(`[node] worker ${state}${message ? `: ${message}` : ''}`));

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (closing) {
      console.error('[node] stopping now, without waiting for the trainers');
      process.exit(1);
    }
    closing = true;
    console.error('[node] stopping: the trainers save a checkpoint first (Ctrl-C again to quit at once)');
    studio.close().then(() => process.exit(0), (err) => {
      console.error(err);
      process.exit(1);
    });
  });
}
