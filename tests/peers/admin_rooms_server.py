#!/usr/bin/python3
"""A chat server whose rooms an admin creates over HTTP before anyone joins,
on aiohttp (Debian's python3-aiohttp): the peer of horde's run-level setup
steps (a scenario's `setup:`, examples/005-login-once-rooms.yaml).

  POST /admin/login {"user":"admin","password":P}  -> 200 {"token":T}, or 401
  POST /rooms {"name":N}   (Authorization: Bearer T) -> 201 {"id":"r<k>"}, header X-Room-Id
  POST /groups/{G}         (Authorization: Bearer T) -> 201: G may then be joined
  POST /publish/{G}        (Authorization: Bearer T) -> 202: the body goes to G's
                              subscribers as `msg G BODY`
  GET  /ws/{room_id}       (Authorization: Bearer T) WebSocket, else 401/404:
       echoes every message, except horde's reference pub/sub commands
       `sub G` (-> `ok sub G`, or `err no such group` when G was not
       created), `unsub G` and `pub G PAYLOAD` (-> `msg G PAYLOAD` to G's
       subscribers)
  GET  /stats              -> JSON counters

Binds 127.0.0.1 on a kernel-picked port and prints it as its first stdout
line. Exits when stdin closes or on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import json
import secrets
import signal
import sys

from aiohttp import WSMsgType, web

COUNTERS = ("logins", "logins_refused", "rooms_created", "groups_created", "unauthorized",
            "ws_accepted", "messages", "http_publishes")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--password", default="admin-secret")
    return parser.parse_args()


def make_app(options):
    stats = dict.fromkeys(COUNTERS, 0)
    tokens, rooms, groups, subscribers = set(), {}, set(), {}
    app = web.Application()

    def authorized(request):
        header = request.headers.get("Authorization", "")
        ok = header.startswith("Bearer ") and header[7:] in tokens
        if not ok:
            stats["unauthorized"] += 1
        return ok

    async def login(request):
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "bad json"}, status=400)
        if body.get("user") != "admin" or body.get("password") != options.password:
            stats["logins_refused"] += 1
            return web.json_response({"error": "bad credentials"}, status=401)
        token = "adm-" + secrets.token_hex(8)
        tokens.add(token)
        stats["logins"] += 1
        return web.json_response({"token": token})

    async def create_room(request):
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        name = json.loads(await request.read()).get("name", "")
        room_id = f"r{len(rooms) + 1}"
        rooms[room_id] = name
        stats["rooms_created"] += 1
        return web.json_response({"id": room_id, "name": name}, status=201,
                                 headers={"X-Room-Id": room_id})

    async def create_group(request):
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        groups.add(request.match_info["group"])
        stats["groups_created"] += 1
        return web.json_response({"group": request.match_info["group"]}, status=201)

    async def deliver(group, payload):
        for peer in list(subscribers.get(group, ())):
            await peer.send_str(f"msg {group} {payload}")

    async def publish(request):
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        stats["http_publishes"] += 1
        await deliver(request.match_info["group"], (await request.read()).decode())
        return web.Response(status=202)

    async def command(ws, text):
        verb, _, rest = text.partition(" ")
        if verb == "sub":
            if rest not in groups:
                await ws.send_str("err no such group")
                return
            subscribers.setdefault(rest, set()).add(ws)
            await ws.send_str("ok sub " + rest)
        elif verb == "unsub":
            subscribers.get(rest, set()).discard(ws)
            await ws.send_str("ok unsub " + rest)
        else:
            group, _, payload = rest.partition(" ")
            await deliver(group, payload)

    async def websocket(request):
        if not authorized(request):
            return web.Response(status=401)
        if request.match_info["room"] not in rooms:
            return web.Response(status=404)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        stats["ws_accepted"] += 1
        try:
            async for msg in ws:
                stats["messages"] += 1
                if msg.type == WSMsgType.TEXT and msg.data.split(" ", 1)[0] in ("sub", "unsub",
                                                                                 "pub"):
                    await command(ws, msg.data)
                elif msg.type == WSMsgType.TEXT:
                    await ws.send_str(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await ws.send_bytes(msg.data)
        finally:
            for members in subscribers.values():
                members.discard(ws)
        return ws

    async def get_stats(request):
        return web.json_response(stats)

    app.router.add_post("/admin/login", login)
    app.router.add_post("/rooms", create_room)
    app.router.add_post("/groups/{group}", create_group)
    app.router.add_post("/publish/{group}", publish)
    app.router.add_get("/ws/{room}", websocket)
    app.router.add_get("/stats", get_stats)
    return app


async def main():
    options = parse_args()
    runner = web.AppRunner(make_app(options), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=0.5)
    await site.start()
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
    sys.stdout.write(f"{runner.addresses[0][1]}\n")
    sys.stdout.flush()
    await stop
    try:  # open WebSockets would otherwise hold cleanup up
        await asyncio.wait_for(runner.cleanup(), 2)
    except asyncio.TimeoutError:
        pass


asyncio.run(main())
