'use strict';
// `node server`: TN Studio on http://127.0.0.1:3000 (HOST and PORT override).
const { createApp } = require('./app');

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 3000);

const server = createApp().listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(`TN Studio: http://${host === '127.0.0.1' ? 'localhost' : host}:${actual}`);
});
server.on('error', (err) => {
  if (err.code === 'EADDRINUSE') console.error(`Port ${port} is in use: start with PORT=3001 node server`);
  else console.error(err.message);
  process.exit(1);
});
