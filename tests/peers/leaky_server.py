#!/usr/bin/env python3
"""An echo server that leaks on purpose, for horde's leak verdict: every
message received keeps --leak bytes alive forever (a list nobody clears), as
a server that caches per message and never evicts. Python `websockets`.

Binds 127.0.0.1 on a kernel-picked port and prints the port as its first
stdout line. Exits when stdin closes or on SIGTERM.
"""
import argparse
import asyncio
import signal
import sys

import websockets

kept = []


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--leak", type=int, default=4096)
    options = parser.parse_args()

    async def echo(socket, path=None):
        try:
            async for message in socket:
                # bytearray: its pages are written, so they count in the RSS.
                kept.append(bytearray(b"x" * options.leak))
                await socket.send(message)
        except websockets.ConnectionClosed:
            pass

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    def finish():
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, finish)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or finish())
    async with websockets.serve(echo, "127.0.0.1", 0, ping_interval=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await stop


asyncio.run(main())
