// How the Node test peers start and end: their options parsed (--help,
// numbers checked), the port printed as the first stdout line, and when the
// test closes their stdin (or on SIGTERM/SIGINT) one JSON line of totals, so
// a test reads what the server itself counted.
'use strict';
const { parseArgs } = require('util');

// parseArgs over `options` (each a {type, default}, plus --help), printing
// `help` for --help or a bad option; the options named in `numbers` must be
// numbers >= 0. Exits 2 on a mistake.
function parseOptions(options, help, numbers) {
  let args;
  try {
    args = parseArgs({ options: { ...options, help: { type: 'boolean', default: false } } }).values;
  } catch (error) {
    process.stderr.write(`${error.message}\n${help}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${help}\n`);
    process.exit(0);
  }
  for (const name of numbers) {
    if (!(Number(args[name]) >= 0)) {
      process.stderr.write(`--${name} wants a number >= 0, not ${args[name]}\n`);
      process.exit(2);
    }
  }
  return args;
}

// Prints `totals` (read at exit, so it may keep changing) and exits, once.
function exitWithTotals(totals) {
  let finished = false;
  function finish() {
    if (finished) return;
    finished = true;
    // A write to a pipe is synchronous on Linux; the callback covers the rest.
    process.stdout.write(`${JSON.stringify(totals)}\n`, () => process.exit(0));
  }
  process.stdin.on('end', finish);
  process.stdin.on('error', finish);
  process.stdin.resume();
  process.on('SIGTERM', finish);
  process.on('SIGINT', finish);
}

// An HTTP server on 127.0.0.1, a kernel-picked port printed as the first
// stdout line once it listens.
function listenOnLoopback(httpServer) {
  httpServer.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
    process.stdout.write(`${httpServer.address().port}\n`);
  });
}

module.exports = { parseOptions, exitWithTotals, listenOnLoopback };
