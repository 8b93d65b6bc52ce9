#!/usr/bin/env python3
"""A pub/sub server on aiohttp (Debian's python3-aiohttp) where subscribers
listen on WebSockets and publishes come by REST, as many real servers do
(Centrifugo's HTTP API, Pusher, Mercure), so that horde's --publish-http is
tested against a server it did not write:

  WebSocket GET /ws:
    -> {"op":"sub","group":G}        <- {"op":"subscribed","group":G}
  HTTP (either port):
    POST /publish/G  body B          -> 202; every subscriber of G gets B
                                        as a text message
    GET /stats                       -> {"published":..,"dropped":..,"refused":..}

Binds 127.0.0.1 twice on kernel-picked ports: the first stdout line is the
WebSocket port, the second the REST port (the same routes answer on both).
Exits when stdin closes or on SIGTERM. --tls-pem FILE (certificate and key
in one PEM) serves both ports over TLS (wss:// and https://).

Faults, for testing loss accounting:
  --drop-every N    every Nth accepted publish is answered 202 but not delivered
  --refuse-every M  every Mth publish request is answered 503 (not delivered)
  --close-every K   every Kth answer carries "Connection: close" (the client
                    must reconnect)
"""
import argparse
import asyncio
import signal
import ssl
import sys

from aiohttp import web, WSMsgType

import json


class Broker:
    def __init__(self, args):
        self.args = args
        self.groups = {}  # name -> set of WebSocketResponse
        self.requests = 0
        self.accepted = 0
        self.stats = {"published": 0, "dropped": 0, "refused": 0, "closed": 0}

    async def websocket(self, request):
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        mine = set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    command = json.loads(msg.data)
                    group = command["group"]
                except (ValueError, KeyError, TypeError):
                    await ws.send_str('{"op":"error"}')
                    continue
                if command.get("op") == "sub":
                    self.groups.setdefault(group, set()).add(ws)
                    mine.add(group)
                    await ws.send_str(json.dumps({"op": "subscribed", "group": group},
                                                 separators=(",", ":")))
        finally:
            for group in mine:
                self.groups.get(group, set()).discard(ws)
        return ws

    async def publish(self, request):
        body = await request.text()
        self.requests += 1
        headers = {}
        if self.args.close_every and self.requests % self.args.close_every == 0:
            headers["Connection"] = "close"
            self.stats["closed"] += 1
        if self.args.refuse_every and self.requests % self.args.refuse_every == 0:
            self.stats["refused"] += 1
            return web.Response(status=503, text="busy", headers=headers)
        self.accepted += 1
        if self.args.drop_every and self.accepted % self.args.drop_every == 0:
            self.stats["dropped"] += 1
            return web.Response(status=202, text="accepted", headers=headers)
        self.stats["published"] += 1
        for ws in list(self.groups.get(request.match_info["group"], ())):
            if not ws.closed:
                await ws.send_str(body)
        return web.Response(status=202, text="accepted", headers=headers)

    async def stats_page(self, request):
        return web.json_response(self.stats)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--drop-every", type=int, default=0)
    parser.add_argument("--refuse-every", type=int, default=0)
    parser.add_argument("--close-every", type=int, default=0)
    parser.add_argument("--tls-pem", default="")
    args = parser.parse_args()
    tls = None
    if args.tls_pem:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_pem)
    broker = Broker(args)
    app = web.Application()
    app.router.add_get("/ws", broker.websocket)
    app.router.add_post("/publish/{group}", broker.publish)
    app.router.add_get("/stats", broker.stats_page)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    ports = []
    for _ in range(2):
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096, ssl_context=tls)
        await site.start()
        ports.append(site._server.sockets[0].getsockname()[1])
    for port in ports:
        print(port, flush=True)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(4096) else None)
    await stop.wait()
    print(json.dumps(broker.stats), file=sys.stderr, flush=True)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
