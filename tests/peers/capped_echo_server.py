#!/usr/bin/env python3
"""Echo server with a known capacity, for `horde ladder`'s test: it answers
at most --rate messages per second over all its connections and queues the
rest, so below the cap an echo comes back at once and past it the queue,
and with it the round trip, grows without bound. The ladder's knee must
land on the level whose rate first exceeds the cap.

Python `websockets` (Debian's python3-websockets). Binds 127.0.0.1 on a
kernel-picked port and prints the port as its first stdout line. Exits when
stdin closes or on SIGTERM.
"""
import argparse
import asyncio
import signal
import sys
import time

import websockets


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, required=True, help="messages answered per second")
    options = parser.parse_args()
    queue = asyncio.Queue()  # (socket, message), unbounded: past the cap it only grows

    async def answer():
        # One answer every 1/rate seconds on a fixed schedule, sent in
        # batches when the event loop wakes late, so the cap holds on
        # average without a sleep per message.
        interval = 1.0 / options.rate
        due = time.monotonic()
        while True:
            socket, message = await queue.get()
            now = time.monotonic()
            due = max(due, now - 0.05)  # idle time is not saved up beyond 50 ms
            if due > now:
                await asyncio.sleep(due - now)
            due += interval
            try:
                await socket.send(message)
            except websockets.ConnectionClosed:
                pass

    async def echo(socket, path=None):
        try:
            async for message in socket:
                queue.put_nowait((socket, message))
        except websockets.ConnectionClosed:
            pass

    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def finish():  # stdin's end and SIGTERM may both come
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, finish)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or finish())
    worker = asyncio.create_task(answer())
    async with websockets.serve(echo, "127.0.0.1", 0, max_queue=None, ping_interval=None,
                                backlog=4096) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await stop
    worker.cancel()


asyncio.run(main())
