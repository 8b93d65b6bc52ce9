#!/usr/bin/python3
"""An echo server on Python `websockets` (Debian's python3-websockets 10.4)
that will not keep a connection: each one is closed after a random
--min-ms..--max-ms (1-3 s by default) with code 1001 "going away", or with
--reset aborted with a TCP RST and no close frame. With --drop-fraction F
--drop-at S it also closes fraction F of all live connections at once, S
seconds after start (a mass disconnect, as when a node of a fleet dies).
So horde's reconnect and accounting logic meets churn it did not script.

Echoes text as text and binary as binary, on any path. GET /stats (a plain
HTTP request, not an upgrade) answers the totals so far as JSON:
  {"accepted":…,"echoed":…,"closed_by_timer":…,"closed_mass":…,
   "closed_by_client":…,"live":…}
closed_by_client counts connections that ended before the server closed
them. The same line is printed to stdout on SIGTERM/SIGINT or when stdin
closes, just before exiting; nothing is printed per connection.

Binds 127.0.0.1 on a kernel-picked port and prints the port as its first
stdout line (as python_ws_server.py does).
"""
import argparse
import asyncio
import http
import json
import logging
import random
import signal
import socket
import struct
import sys

import websockets


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-ms", type=int, default=1000, help="shortest connection life")
    parser.add_argument("--max-ms", type=int, default=3000, help="longest connection life")
    parser.add_argument("--no-random-close", action="store_true",
                        help="keep connections until the client or a mass drop ends them")
    parser.add_argument("--code", type=int, default=1001, help="close code for server closes")
    parser.add_argument("--reset", action="store_true",
                        help="abort with a TCP RST instead of a close handshake")
    parser.add_argument("--drop-fraction", type=float, default=0.0,
                        help="fraction of live connections the mass drop closes")
    parser.add_argument("--drop-at", type=float, default=0.0,
                        help="seconds after start of the mass drop")
    parser.add_argument("--seed", type=int, default=None, help="seed for lifetimes and drop choice")
    parser.add_argument("--max-size", type=int, default=1 << 20, help="largest message, bytes")
    parser.add_argument("--max-connections", type=int, default=15000,
                        help="upgrades beyond this many live connections get 503")
    options = parser.parse_args()
    if not 0 <= options.min_ms <= options.max_ms:
        parser.error("need 0 <= --min-ms <= --max-ms")
    return options


class Quiet(logging.Filter):
    """Clients that vanish mid-handshake are this peer's normal weather, not
    news: keep them off stderr, let the server's own failures through."""
    def filter(self, record):
        return record.getMessage() not in ("opening handshake failed",
                                           "closing handshake failed")


async def main():
    options = parse_args()
    rng = random.Random(options.seed)
    logging.getLogger("websockets.server").addFilter(Quiet())
    totals = dict.fromkeys(("accepted", "echoed", "closed_by_timer", "closed_mass",
                            "closed_by_client"), 0)
    live = set()  # open connections: bounded by --max-connections
    closing = set()  # close() tasks in flight, kept referenced until done

    def report():
        return json.dumps(dict(totals, live=len(live)), separators=(",", ":"))

    def end(ws, why):
        """The server's close, once per connection, whoever asks first."""
        if ws not in live or getattr(ws, "ended_by", None):
            return
        ws.ended_by = why
        totals[why] += 1
        if options.reset:
            # SO_LINGER 0 makes close() send RST rather than FIN, even with
            # nothing left unread: an abrupt death, not an orderly one.
            sock = ws.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.transport.abort()
        else:
            task = asyncio.get_running_loop().create_task(ws.close(options.code, why))
            closing.add(task)
            task.add_done_callback(closing.discard)

    async def echo(ws, path=None):
        totals["accepted"] += 1
        timer = None
        if not options.no_random_close:
            life = rng.uniform(options.min_ms, options.max_ms) / 1000.0
            timer = asyncio.get_running_loop().call_later(life, end, ws, "closed_by_timer")
        live.add(ws)
        try:
            async for message in ws:
                await ws.send(message)
                totals["echoed"] += 1
        except websockets.ConnectionClosed:
            pass
        finally:
            if timer:
                timer.cancel()
            live.discard(ws)
            if not getattr(ws, "ended_by", None):
                totals["closed_by_client"] += 1

    async def mass_drop():
        await asyncio.sleep(options.drop_at)
        doomed = [ws for ws in live if not getattr(ws, "ended_by", None)]
        for ws in rng.sample(doomed, round(options.drop_fraction * len(doomed))):
            end(ws, "closed_mass")

    async def stats_page(path, headers):
        if path == "/stats" and "upgrade" not in headers.get("Connection", "").lower():
            return (http.HTTPStatus.OK, [("Content-Type", "application/json")],
                    report().encode() + b"\n")
        if len(live) >= options.max_connections:
            return (http.HTTPStatus.SERVICE_UNAVAILABLE, [], b"busy\n")
        return None

    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def finish():  # stdin's end and a signal may both come
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish)
    try:  # a test's end closes our stdin; a regular file or none cannot be watched
        loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or finish())
    except (OSError, ValueError, AttributeError):
        pass
    # max_queue and write_limit bound what one connection can hold; pings
    # are off so that only the closes described above end connections.
    server = await websockets.serve(echo, "127.0.0.1", 0, max_size=options.max_size,
                                    max_queue=16, write_limit=1 << 16, ping_interval=None,
                                    close_timeout=1, backlog=4096,
                                    process_request=stats_page)
    # One write each, so a reader never sees a line without its newline.
    sys.stdout.write(f"{server.sockets[0].getsockname()[1]}\n")
    sys.stdout.flush()
    dropper = loop.create_task(mass_drop()) if options.drop_fraction > 0 else None
    await stop
    # Totals first: closing the server closes the rest, which is no event of ours.
    sys.stdout.write(report() + "\n")
    sys.stdout.flush()
    if dropper:
        dropper.cancel()
    server.close()
    try:  # a client that never answers our close must not hold the exit up
        await asyncio.wait_for(server.wait_closed(), 2)
    except asyncio.TimeoutError:
        pass


asyncio.run(main())
