// A JSON-RPC 2.0 server over WebSocket from npm's `rpc-websockets` (its
// Server class, on Node `ws`), a request/response framing no one here wrote,
// so horde's request-id matching is tested against someone else's replies.
//
// Methods, all in rpc-websockets' default namespace "/". The namespace is the
// URL path, so a client must connect to ws://127.0.0.1:PORT/ (any other path
// gets -32601 "Method not found" for every method):
//   add   [a, b]  -> a + b (two finite numbers, else -32602 "Invalid params")
//   echo  params  -> params, unchanged
//   slow  params  -> params, after --slow-ms
//   fail  any     -> error {"code":-32001,"message":"deliberate"}
//
// rpc-websockets' own ways, which a client must allow for: replies come as
// each call finishes, not in request order (match them by id); a request
// whose id is 0 (or any falsy id) gets no reply at all, as if a notification;
// a thrown Error would become {"code":-32000,"message":name,"data":message},
// so "fail" throws a plain object, which is sent as the error member as is.
//
// Binds 127.0.0.1 on a kernel-picked port, prints the port as its first
// stdout line (as node_ws_server.js does), exits when stdin closes or on
// SIGTERM/SIGINT, printing one JSON line of totals:
//   {"connections":…,"messages":…,"slow_pending_max":…,"rejected_busy":…,"cut_backlogged":…}
'use strict';
const http = require('http');
const { parseOptions, exitWithTotals, listenOnLoopback } = require('./peer_process');
const { Server } = require('rpc-websockets');

const HELP = `usage: node node_jsonrpc_server.js [options]
  --slow-ms N          delay of the "slow" method, ms (default 50)
  --max-connections N  refuse TCP connections beyond N open ones (default 20000)
  --max-payload N      largest request message, bytes (default 1048576)
  --max-pending N      "slow" calls waiting at once before "slow" answers
                       error -32002 "busy" (default 100000)
  --max-buffered N     close a client whose unread replies exceed N bytes
                       (default 8388608)
  --help               this text`;

const numbers = ['slow-ms', 'max-connections', 'max-payload', 'max-pending', 'max-buffered'];
const args = parseOptions({
  'slow-ms': { type: 'string', default: '50' },
  'max-connections': { type: 'string', default: '20000' },
  'max-payload': { type: 'string', default: '1048576' },
  'max-pending': { type: 'string', default: '100000' },
  'max-buffered': { type: 'string', default: '8388608' },
}, HELP, numbers);
const slowMs = Number(args['slow-ms']);
const maxPending = Number(args['max-pending']);
const maxBuffered = Number(args['max-buffered']);

const totals = { connections: 0, messages: 0, slow_pending_max: 0, rejected_busy: 0, cut_backlogged: 0 };
let slowPending = 0;

// Our own HTTP server so the kernel's backlog and Node's connection cap are
// ours to set; rpc-websockets hands `server` through to ws.
const httpServer = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('WebSocket only\n');
});
httpServer.maxConnections = Number(args['max-connections']);
const rpc = new Server({ server: httpServer, maxPayload: Number(args['max-payload']) });

rpc.register('add', (params) => {
  if (!Array.isArray(params) || params.length !== 2 || !params.every(Number.isFinite)) {
    throw { code: -32602, message: 'Invalid params' };
  }
  return params[0] + params[1];
});
rpc.register('echo', (params) => params);
rpc.register('slow', (params) => {
  // Each waiting call holds a timer: cap them so a flood cannot grow memory.
  if (slowPending >= maxPending) {
    totals.rejected_busy++;
    throw { code: -32002, message: 'busy' };
  }
  slowPending++;
  totals.slow_pending_max = Math.max(totals.slow_pending_max, slowPending);
  return new Promise((resolve) => setTimeout(() => {
    slowPending--;
    resolve(params);
  }, slowMs));
});
rpc.register('fail', () => {
  throw { code: -32001, message: 'deliberate' };
});

rpc.on('connection', (socket) => {
  totals.connections++;
  // Registered before rpc-websockets' own listener, so it runs first: a
  // client that sends without reading would otherwise grow ws's send buffer.
  socket.on('message', () => {
    totals.messages++;
    if (socket.bufferedAmount > maxBuffered) {
      totals.cut_backlogged++;
      socket.terminate();
    }
  });
});
rpc.on('socket-error', () => {});
rpc.on('error', () => {});

listenOnLoopback(httpServer);
exitWithTotals(totals);
