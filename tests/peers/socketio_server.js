// The official `socket.io` server (npm, v4) for horde's --protocol socketio
// tests and bench: a Socket.IO stack no one here wrote. Binds 127.0.0.1 on a
// kernel-picked port (or --port), prints the port as its first stdout line,
// and exits when stdin closes (the test ended) or on SIGTERM, after one
// stdout line of what it saw ("socketio: connections N events N ...").
//
// Events, on "/" and on "/secure" (which wants auth {"token":"letmein"}):
//   join(room)             -> socket joins; emits joined(room)
//   leave(room)            -> socket leaves; emits left(room)
//   publish(room, payload) -> every socket in the room gets message(room, payload)
//   echo(...args, ack)     -> ack(...args); without an ack, emits echo(...args)
//   message(text)          -> send(text) back (socket.send is the "message" event)
//   file()                 -> emits file(<3-byte Buffer>, "after"): one binary attachment
//   count(n, tag)          -> emits item(tag, i) for i = 0 .. n-1 (at most 10000), then
//                             done(tag): a stream, its frames a known number
// Flags: --ping-interval MS, --ping-timeout MS (Engine.IO's keep-alive; the
// server drops a client whose pong is late), --port N, --workers N (N
// processes of node:cluster sharing the port, for more connections than one
// process's descriptor limit holds; bench/protocol_socketio.sh; rooms are
// then per worker, and the closing line counts nothing).
'use strict';
const cluster = require('cluster');
const http = require('http');
const { Server } = require('socket.io');

function flag(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 && at + 1 < process.argv.length ? Number(process.argv[at + 1]) : fallback;
}

const workers = flag('--workers', 1);
if (workers > 1 && cluster.isPrimary) {
  // Workers share one listening port (listen(0) gives them all the same one).
  let printed = false;
  for (let i = 0; i < workers; i += 1) {
    cluster.fork().on('message', (m) => {
      if (m && m.port && !printed) {
        printed = true;
        process.stdout.write(`${m.port}\n`);
      }
    });
  }
  const stop = () => {
    for (const id in cluster.workers) cluster.workers[id].kill();
    process.stdout.write(`socketio: workers ${workers}\n`);
    process.exit(0);
  };
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  return;
}

const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  pingInterval: flag('--ping-interval', 25000),
  pingTimeout: flag('--ping-timeout', 20000),
  serveClient: false,
});

const seen = { connections: 0, events: 0, publishes: 0, deliveries: 0, ping_drops: 0, items: 0 };

function serve(nsp) {
  nsp.on('connection', (socket) => {
    seen.connections += 1;
    socket.on('disconnect', (reason) => {
      if (reason === 'ping timeout') seen.ping_drops += 1;
    });
    socket.on('join', (room) => {
      seen.events += 1;
      socket.join(String(room));
      socket.emit('joined', room);
    });
    socket.on('leave', (room) => {
      seen.events += 1;
      socket.leave(String(room));
      socket.emit('left', room);
    });
    socket.on('publish', (room, payload) => {
      seen.events += 1;
      seen.publishes += 1;
      const members = nsp.adapter.rooms.get(String(room));
      seen.deliveries += members ? members.size : 0;
      nsp.to(String(room)).emit('message', room, payload);
    });
    socket.on('echo', (...args) => {
      seen.events += 1;
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      if (ack) ack(...args);
      else socket.emit('echo', ...args);
    });
    socket.on('message', (text) => {
      seen.events += 1;
      socket.send(text);
    });
    socket.on('count', (n, tag) => {
      seen.events += 1;
      const total = Math.max(0, Math.min(Number(n) || 0, 10000));
      for (let i = 0; i < total; i += 1) socket.emit('item', tag, i);
      seen.items += total;
      socket.emit('done', tag);
    });
    socket.on('file', () => {
      seen.events += 1;
      socket.emit('file', Buffer.from([1, 2, 3]), 'after');
    });
  });
}

serve(io.of('/'));
const secure = io.of('/secure');
secure.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === 'letmein') next();
  else next(new Error('Not authorized'));
});
serve(secure);

httpServer.listen(flag('--port', 0), '127.0.0.1', 4096 * 16, () => {
  if (cluster.isWorker) process.send({ port: httpServer.address().port });
  else process.stdout.write(`${httpServer.address().port}\n`);
});
if (cluster.isWorker) {
  process.on('disconnect', () => process.exit(0));  // the primary went away
  return;
}

function finish() {
  process.stdout.write(
    `socketio: connections ${seen.connections} events ${seen.events} publishes ${seen.publishes} ` +
      `deliveries ${seen.deliveries} ping_drops ${seen.ping_drops} items ${seen.items}\n`,
  );
  process.exit(0);
}
process.stdin.on('end', finish);
process.stdin.resume();
process.on('SIGTERM', finish);
