// Node `ws` echo server for horde's integration tests: a WebSocket stack no
// one here wrote. Binds 127.0.0.1 on a kernel-picked port, prints the port as
// its first stdout line, echoes text as text and binary as binary, and exits
// when stdin closes (the test ended) or on SIGTERM. serve() is also what
// node_deflate_server.js runs, with its own ws options.
'use strict';
const { WebSocketServer } = require('ws');

function serve(extra = {}) {
  const options = { host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024, backlog: 4096 };
  const server = new WebSocketServer({ ...options, ...extra });
  server.on('listening', () => process.stdout.write(`${server.address().port}\n`));
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => {});
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
}

module.exports = { serve };
if (require.main === module) serve();
