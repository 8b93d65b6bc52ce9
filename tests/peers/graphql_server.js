// A GraphQL server over WebSocket speaking `graphql-transport-ws`, from npm's
// `graphql-ws` (its ws adapter, graphql-ws/use/ws) and the reference
// `graphql` executor: the protocol as its authors implement it, so horde's
// `--protocol graphql-ws` codec is tested against someone else's server.
//
// Schema:
//   type Query        { echo(text: String!): String! }
//   type Mutation     { publish(group: String!, payload: String!): Int! }
//   type Subscription { messages(group: String!): String!
//                       countdown(from: Int!): Int! }
// `countdown` streams from, from-1, ..., 1 (a `next` each, a macrotask
// apart) and then completes: a stream with a known number of frames.
// `publish` hands `payload` to every subscription to `messages` on `group`
// (each gets a `next` with {"data":{"messages":payload}}) and returns how many
// it reached. A subscription queues at most --max-queue undelivered payloads;
// past that it drops the oldest (counted as "dropped").
//
// Options: --token T requires connection_init's payload to be {"token":"T"}
// (else graphql-ws closes with 4403 Forbidden); --never-ack leaves every
// connection_init unanswered (a client's ack deadline is tested with it);
// --ping-ms N sends the protocol's own {"type":"ping"} to every acknowledged
// connection every N ms and counts the pongs that come back. --bad-next-ms N
// breaks the protocol N ms after each ack: a `next` with no id, which a
// client must refuse. --plain speaks
// no GraphQL at all but horde's reference pub/sub protocol over bare
// WebSocket ("sub G" -> "ok sub G", "pub G PAYLOAD" -> PAYLOAD to each
// subscriber of G), on the same runtime and `ws` library: bench/ compares
// the two to isolate what GraphQL costs.
//
// Binds 127.0.0.1 on a kernel-picked port, prints the port as its first
// stdout line, exits when stdin closes or on SIGTERM/SIGINT, printing one
// JSON line of totals:
//   {"connections":…,"acks":…,"subscriptions":…,"publishes":…,"deliveries":…,
//    "dropped":…,"pings":…,"pongs":…,"queries":…,"countdowns":…,"countdown_items":…}
'use strict';
const http = require('http');
const { parseOptions, exitWithTotals, listenOnLoopback } = require('./peer_process');
const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { buildSchema } = require('graphql');

const HELP = `usage: node graphql_server.js [options]
  --token T         connection_init must carry {"token":"T"} (default: none)
  --never-ack       never answer connection_init
  --ping-ms N       send {"type":"ping"} to each connection every N ms (0: never)
  --max-queue N     undelivered payloads a subscription keeps (default 10000)
  --bad-next-ms N   N ms after each ack, send a next without an id (0: never)
  --plain           bare WebSocket pub/sub ("sub G", "pub G PAYLOAD"), no GraphQL
  --help            this text`;

const args = parseOptions({
  token: { type: 'string', default: '' },
  'never-ack': { type: 'boolean', default: false },
  'ping-ms': { type: 'string', default: '0' },
  'max-queue': { type: 'string', default: '10000' },
  'bad-next-ms': { type: 'string', default: '0' },
  plain: { type: 'boolean', default: false },
}, HELP, ['ping-ms', 'max-queue', 'bad-next-ms']);
const pingMs = Number(args['ping-ms']);
const maxQueue = Number(args['max-queue']);

const totals = {
  connections: 0, acks: 0, subscriptions: 0, publishes: 0, deliveries: 0, dropped: 0,
  pings: 0, pongs: 0, queries: 0, countdowns: 0, countdown_items: 0,
};

// countdown(from): from .. 1, each after a turn of the event loop (so
// frames have gaps), then done: graphql-ws sends `complete`. Bounded by
// `from` (at most 10000), and stops when the client completes it.
async function* countdown({ from }) {
  totals.countdowns++;
  for (let i = Math.min(from, 10000); i > 0; i--) {
    await new Promise((resolve) => setImmediate(resolve));
    totals.countdown_items++;
    yield { countdown: i };
  }
}

// group -> Set of subscriptions (each a small async iterator).
const groups = new Map();

// An async iterator of one subscription's payloads, ended by return().
function subscription(group) {
  const queue = [];
  let waiting = null;
  let done = false;
  const sub = {
    push(payload) {
      if (done) return;
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: { messages: payload }, done: false });
        return;
      }
      if (queue.length >= maxQueue) {
        queue.shift();
        totals.dropped++;
      }
      queue.push(payload);
    },
    next() {
      if (queue.length > 0) return Promise.resolve({ value: { messages: queue.shift() }, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => { waiting = resolve; });
    },
    return() {
      done = true;
      const set = groups.get(group);
      if (set) {
        set.delete(sub);
        if (set.size === 0) groups.delete(group);
      }
      if (waiting) {
        waiting({ value: undefined, done: true });
        waiting = null;
      }
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() { return sub; },
  };
  if (!groups.has(group)) groups.set(group, new Set());
  groups.get(group).add(sub);
  totals.subscriptions++;
  return sub;
}

const schema = buildSchema(`
  type Query { echo(text: String!): String! }
  type Mutation { publish(group: String!, payload: String!): Int! }
  type Subscription { messages(group: String!): String! countdown(from: Int!): Int! }
`);
const roots = {
  query: {
    echo: ({ text }) => {
      totals.queries++;
      return text;
    },
  },
  mutation: {
    publish: ({ group, payload }) => {
      totals.publishes++;
      const set = groups.get(group);
      if (!set) return 0;
      for (const sub of set) sub.push(payload);
      totals.deliveries += set.size;
      return set.size;
    },
  },
  subscription: {
    messages: ({ group }) => subscription(group),
    countdown,
  },
};

const httpServer = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('WebSocket only\n');
});
httpServer.maxConnections = 20000;
const wss = new WebSocketServer({ server: httpServer, maxPayload: 1 << 20 });

// --plain: the reference protocol, each subscriber a socket.
function plainConnection(socket) {
  const mine = new Set();
  socket.on('message', (data) => {
    const text = String(data);
    const space = text.indexOf(' ');
    const verb = text.slice(0, space);
    if (verb === 'sub') {
      const group = text.slice(space + 1);
      if (!groups.has(group)) groups.set(group, new Set());
      groups.get(group).add(socket);
      mine.add(group);
      totals.subscriptions++;
      socket.send(`ok sub ${group}`);
    } else if (verb === 'pub') {
      const rest = text.slice(space + 1);
      const cut = rest.indexOf(' ');
      const set = groups.get(rest.slice(0, cut));
      totals.publishes++;
      if (!set) return;
      const payload = rest.slice(cut + 1);
      for (const peer of set) peer.send(payload);
      totals.deliveries += set.size;
    }
  });
  socket.once('close', () => {
    for (const group of mine) {
      const set = groups.get(group);
      if (set) set.delete(socket);
    }
  });
}

if (!args.plain) useServer({
  schema,
  // buildSchema leaves resolvers out: the roots carry them (rootValue per
  // operation type, as graphql-js's own examples do).
  roots,
  onConnect: (ctx) => {
    if (args['never-ack']) return new Promise(() => {});
    if (args.token !== '') {
      const p = ctx.connectionParams;
      if (!p || p.token !== args.token) return false;
    }
    totals.acks++;
    const badNextMs = Number(args['bad-next-ms']);
    if (badNextMs > 0) {
      const { socket } = ctx.extra;
      setTimeout(() => {
        if (socket.readyState === socket.OPEN) socket.send('{"type":"next","payload":{}}');
      }, badNextMs);
    }
    return true;
  },
}, wss, 0);

wss.on('connection', (socket) => {
  totals.connections++;
  socket.on('error', () => {});
  if (args.plain) plainConnection(socket);
  if (pingMs <= 0) return;
  socket.on('message', (data) => {
    if (String(data).includes('"pong"')) totals.pongs++;
  });
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    totals.pings++;
    socket.send('{"type":"ping"}');
  }, pingMs);
  socket.once('close', () => clearInterval(timer));
});
wss.on('error', () => {});

listenOnLoopback(httpServer);
exitWithTotals(totals);
