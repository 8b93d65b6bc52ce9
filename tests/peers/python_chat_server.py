#!/usr/bin/env python3
"""A JSON chat server with rooms on Python `websockets` (Debian's
python3-websockets), speaking a protocol that is not horde's, so that
horde's message templates are tested against a format it did not invent:

  -> {"type":"join","room":R}              <- {"type":"joined","room":R}
  -> {"type":"say","room":R,"text":T}      <- every member of R: {"type":"message","room":R,"text":T}

Binds 127.0.0.1 on a kernel-picked port and prints the port as its first
stdout line. Exits when stdin closes or on SIGTERM.

With --require-created, rooms must first be created over plain HTTP/1.1 (a
second kernel-picked port, printed as the second stdout line):

  POST /groups {"name":R}  or  [{"name":R}, ...]   -> 201, or 422 when any
                                                      name is in --reject
  joining a room never created                     <- {"type":"error","reason":"no such room"}
"""
import argparse
import asyncio
import json
import signal
import sys

import websockets


async def http_groups(reader, writer, rooms, reject):
    """A tiny keep-alive HTTP/1.1 endpoint: POST /groups creates rooms."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, answer = 404, {"error": "not found"}
            if method == "POST" and path == "/groups":
                try:
                    items = json.loads(body)
                    items = items if isinstance(items, list) else [items]
                    names = [item["name"] for item in items]
                except (ValueError, KeyError, TypeError):
                    status, answer = 400, {"error": "bad body"}
                else:
                    if any(name in reject for name in names):
                        status, answer = 422, {"error": "rejected"}
                    else:
                        for name in names:
                            rooms.setdefault(name, set())
                        status, answer = 201, {"created": len(names)}
            out = json.dumps(answer).encode()
            writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (status, len(out), out))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--require-created", action="store_true")
    parser.add_argument("--reject", default="", help="room names whose creation fails")
    options = parser.parse_args()
    reject = set(filter(None, options.reject.split(",")))
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
                    if options.require_created and room not in rooms:
                        await socket.send(json.dumps({"type": "error", "reason": "no such room"}))
                        continue
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
        if options.require_created:
            http = await asyncio.start_server(
                lambda r, w: http_groups(r, w, rooms, reject), "127.0.0.1", 0)
            print(http.sockets[0].getsockname()[1], flush=True)
        await stop


asyncio.run(main())
