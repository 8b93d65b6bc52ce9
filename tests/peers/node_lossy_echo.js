// Node `ws` echo server that loses, repeats and damages echoes on a fixed
// schedule, so a test can hold horde's echo accounting to exact counts from a
// WebSocket stack no one here wrote. Same conventions as node_ws_server.js:
// binds 127.0.0.1 on a kernel-picked port, prints the port as its first
// stdout line, exits when stdin closes (the test ended) or on SIGTERM.
//
// Each connection numbers the messages it receives n = 1, 2, 3, ... and gives
// each message exactly one fate, the first rule that applies winning:
//
//   1. n % 7 == 0   dropped     never echoed
//   2. n % 11 == 0  truncated   echoed once, only its first max(keep, len/2) bytes
//   3. n % 5 == 0   corrupted   echoed once, full length, its last byte flipped (^ 0x01)
//   4. n % 3 == 0   duplicated  echoed twice, byte for byte
//   5. otherwise    echoed once, byte for byte
//
// `keep` is the stamp horde leads every message with, which no rule touches:
// 32 bytes in a binary message, the 47-character "hs1." token in a text one
// (flipping bit 0 keeps text ASCII, so the frame stays valid UTF-8). A
// message no longer than `keep` cannot be truncated or corrupted without
// touching the stamp: rules 2 and 3 pass it by and the next rule applies.
//
// So the fates are disjoint and each horde counter maps to one total here:
// duplicated echoes = "duplicated", unanswered = "dropped", corrupted =
// "corrupted", truncated = "truncated", messages sent = "received", and every
// echoed message (truncated and corrupted ones too: their stamps are intact)
// answers its stamp once: uniquely answered = "echoed" = received - dropped.
//
// Modes, chosen per connection by the URL path (or for every connection by
// an argument):
//   /             the schedule above
//   /overlap      (--overlap) damage and duplication compose: a duplicated
//                 message is duplicated as sent, truncated or corrupted or
//                 not; "duplicated_damaged" counts the ones sent twice
//                 damaged. Drop still wins.
//   /close4001    (--close4001) echoes the first message, then closes with
//                 code 4001 and a reason; later messages are ignored.
//
// On SIGTERM or when stdin closes it prints one JSON line of totals over all
// connections and exits:
//   {"connections":…,"received":…,"echoed":…,"frames_sent":…,"duplicated":…,
//    "dropped":…,"corrupted":…,"truncated":…,"duplicated_damaged":…,
//    "closed_4001":…,"ignored_after_close":…}
'use strict';
const { WebSocketServer } = require('ws');
const { exitWithTotals } = require('./peer_process');

const BINARY_STAMP = 32;
const TEXT_STAMP = 47;
const CLOSE_CODE = 4001;
const CLOSE_REASON = 'horde test peer: closing after the first message';

const forced = process.argv.includes('--close4001')
  ? 'close4001'
  : process.argv.includes('--overlap')
    ? 'overlap'
    : null;

const totals = {
  connections: 0,
  received: 0,
  echoed: 0,
  frames_sent: 0,
  duplicated: 0,
  dropped: 0,
  corrupted: 0,
  truncated: 0,
  duplicated_damaged: 0,
  closed_4001: 0,
  ignored_after_close: 0,
};

function mode_of(request) {
  if (forced) return forced;
  const path = (request.url || '/').split('?')[0];
  if (path === '/close4001') return 'close4001';
  if (path === '/overlap') return 'overlap';
  return 'lossy';
}

// What to send for message n, or null when it is dropped; counts its fate.
function apply_schedule(n, data, isBinary, overlap) {
  if (n % 7 === 0) {
    totals.dropped++;
    return null;
  }
  const keep = isBinary ? BINARY_STAMP : TEXT_STAMP;
  let out = data;
  let damaged = false;
  if (n % 11 === 0 && data.length > keep) {
    out = data.subarray(0, Math.max(keep, Math.floor(data.length / 2)));
    totals.truncated++;
    damaged = true;
  } else if (n % 5 === 0 && data.length > keep) {
    out = Buffer.from(data);
    out[out.length - 1] ^= 0x01;
    totals.corrupted++;
    damaged = true;
  }
  const twice = n % 3 === 0 && (overlap || !damaged);
  if (twice) {
    totals.duplicated++;
    if (damaged) totals.duplicated_damaged++;
  }
  totals.echoed++;
  return { out, copies: twice ? 2 : 1 };
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024, backlog: 4096 });
server.on('listening', () => process.stdout.write(`${server.address().port}\n`));
server.on('connection', (socket, request) => {
  totals.connections++;
  const mode = mode_of(request);
  let n = 0;
  let closing = false;
  socket.on('message', (data, isBinary) => {
    if (closing) {
      totals.ignored_after_close++;
      return;
    }
    totals.received++;
    n++;
    if (mode === 'close4001') {
      totals.echoed++;
      totals.frames_sent++;
      socket.send(data, { binary: isBinary });
      closing = true;
      totals.closed_4001++;
      socket.close(CLOSE_CODE, CLOSE_REASON);
      return;
    }
    const echo = apply_schedule(n, data, isBinary, mode === 'overlap');
    if (!echo) return;
    for (let i = 0; i < echo.copies; i++) {
      totals.frames_sent++;
      socket.send(echo.out, { binary: isBinary });
    }
  });
  socket.on('error', () => {});
});

exitWithTotals(totals);
