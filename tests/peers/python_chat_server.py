#!/usr/bin/env python3
"""A JSON chat server with rooms on Python `websockets` (Debian's
python3-websockets), speaking a protocol that is not horde's, so that
horde's message templates are tested against a format it did not invent:

  -> {"type":"join","room":R}              <- {"type":"joined","room":R}
  -> {"type":"say","room":R,"text":T}      <- every member of R: {"type":"message","room":R,"text":T}

Binds 127.0.0.1 on a kernel-picked port and prints the port as its first
stdout line. Exits when stdin closes or on SIGTERM.
"""
import asyncio
import json
import signal
import sys

import websockets


async def main():
    rooms = {}

    async def chat(socket, path=None):
        joined = set()
        try:
            async for raw in socket:
                try:
                    message = json.loads(raw)
                except ValueError:
                    await socket.send(json.dumps({"type": "error", "reason": "not JSON"}))
                    continue
                kind, room = message.get("type"), message.get("room")
                if kind == "join":
                    rooms.setdefault(room, set()).add(socket)
                    joined.add(room)
                    await socket.send(json.dumps({"type": "joined", "room": room},
                                                 separators=(",", ":")))
                elif kind == "say":
                    out = json.dumps({"type": "message", "room": room,
                                      "text": message.get("text", "")},
                                     separators=(",", ":"))
                    websockets.broadcast(rooms.get(room, ()), out)
        except websockets.ConnectionClosed:
            pass
        finally:
            for room in joined:
                rooms.get(room, set()).discard(socket)

    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def finish():
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, finish)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or finish())
    async with websockets.serve(chat, "127.0.0.1", 0, max_queue=None, ping_interval=None,
                                backlog=4096) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await stop


asyncio.run(main())
