#!/usr/bin/python3
"""A session service and WebSocket token streamer on aiohttp (Debian's
python3-aiohttp) and PyJWT (python3-jwt), shaped like the LLM-proxy load
tests horde is meant to replace: create a session over HTTP, get a JWT, open
a WebSocket with that JWT as a Bearer token, stream tokens at a fixed pace.

  POST /sessions {"user":U}   -> 201 {"session_id":S,"token":JWT}, header X-Session-Id: S
                                 (JWT: HS256 with --secret, claims sub=U, sid=S, exp=now+3600)
  GET  /ws/{S}                   WebSocket; needs "Authorization: Bearer JWT" (else 401)
    -> {"type":"prompt","id":X,"tokens":N}
    <- {"type":"token","id":X,"i":k,"text":"tok<k>"}   k = 0..N-1, frame k at start + k*pace
    <- {"type":"done","id":X,"count":N}
  GET  /stats                 -> JSON counters

Binds 127.0.0.1 on a kernel-picked port and prints the port as its first
stdout line (the convention tests/support/horde_cli.hh's start_peer reads).
Exits when stdin closes or on SIGTERM/SIGINT. Sessions are not stored: the
JWT carries everything, so memory does not grow with sessions created.
"""
import argparse
import asyncio
import hashlib
import json
import signal
import sys
import time
import uuid

import jwt
from aiohttp import WSCloseCode, WSMsgType, web

COUNTERS = ("sessions_created", "ws_accepted", "ws_rejected_auth", "streams_started",
            "streams_completed", "streams_cut", "tokens_sent")


def dumps(value):
    return json.dumps(value, separators=(",", ":"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secret", default="horde-test-secret-0123456789abcdef",
                        help="HS256 key for minting and verifying JWTs")
    parser.add_argument("--verify-any", action="store_true",
                        help="also accept tokens minted elsewhere with --secret: only "
                             "'sub' is required; 'sid', when present, must match the path")
    parser.add_argument("--pace", type=float, default=20.0, help="ms between token frames")
    parser.add_argument("--tokens", type=int, default=10, help="N when a prompt has no 'tokens'")
    parser.add_argument("--max-tokens", type=int, default=100000,
                        help="cap on N per prompt (a prompt above it gets an error frame)")
    parser.add_argument("--close-early", type=float, default=0.0,
                        help="fraction of sessions (chosen by a hash of the session id) "
                             "closed with 1011 halfway through their first stream")
    parser.add_argument("--max-message", type=int, default=64 * 1024,
                        help="largest client message or request body, bytes")
    parser.add_argument("--backlog", type=int, default=4096)
    parser.add_argument("--max-connections", type=int, default=15000,
                        help="open WebSockets beyond this are refused with 503")
    return parser.parse_args()


def cut_early(session_id, fraction):
    """Deterministic per session: the same id is always cut or always not,
    so a test can predict how many of its sessions the server will cut."""
    digest = hashlib.sha256(session_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < fraction


def make_app(options):
    stats = dict.fromkeys(COUNTERS, 0)
    app = web.Application(client_max_size=options.max_message)
    pace = options.pace / 1000.0
    open_sockets = [0]  # a gauge, not reported: the cap's bookkeeping

    async def create_session(request):
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "bad json"}, status=400, dumps=dumps)
        user = body.get("user", "anonymous") if isinstance(body, dict) else None
        if not isinstance(user, str):
            return web.json_response({"error": "body must be an object with a string 'user'"},
                                     status=400, dumps=dumps)
        session_id = str(uuid.uuid4())
        token = jwt.encode({"sub": user, "sid": session_id, "exp": int(time.time()) + 3600},
                           options.secret, algorithm="HS256")
        stats["sessions_created"] += 1
        return web.json_response({"session_id": session_id, "token": token}, status=201,
                                 headers={"X-Session-Id": session_id}, dumps=dumps)

    def authorized(request, session_id):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        # Our own tokens always carry sub, sid and exp; --verify-any relaxes
        # that to sub alone for tokens horde mints with the same secret.
        required = ["sub"] if options.verify_any else ["sub", "sid", "exp"]
        try:
            claims = jwt.decode(token.strip(), options.secret, algorithms=["HS256"],
                                options={"require": required})
        except jwt.PyJWTError:
            return False
        return "sid" not in claims or claims["sid"] == session_id

    async def stream(ws, prompt_id, count, cut_at):
        """Sends `count` token frames paced from one anchor, so a late wake-up
        does not push every later frame back (no drift). Returns False when
        the stream was cut."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for k in range(count):
            delay = start + k * pace - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if k == cut_at:
                await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"close-early")
                return False
            await ws.send_str(dumps({"type": "token", "id": prompt_id, "i": k,
                                     "text": f"tok{k}"}))
            stats["tokens_sent"] += 1
        await ws.send_str(dumps({"type": "done", "id": prompt_id, "count": count}))
        return True

    async def websocket(request):
        session_id = request.match_info["session_id"]
        if not authorized(request, session_id):
            stats["ws_rejected_auth"] += 1
            return web.json_response({"error": "unauthorized"}, status=401, dumps=dumps)
        if open_sockets[0] >= options.max_connections:
            return web.json_response({"error": "busy"}, status=503, dumps=dumps)
        ws = web.WebSocketResponse(max_msg_size=options.max_message, autoping=True)
        await ws.prepare(request)
        stats["ws_accepted"] += 1
        open_sockets[0] += 1
        try:
            return await serve_prompts(ws, session_id)
        finally:
            open_sockets[0] -= 1

    async def serve_prompts(ws, session_id):
        doomed = cut_early(session_id, options.close_early)
        # Prompts are served one at a time: the next is not read until this
        # stream is done, and aiohttp stops reading the socket when its small
        # receive buffer fills, so a flooding client cannot grow memory.
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                prompt = json.loads(msg.data)
                prompt_id = prompt.get("id")
                count = prompt.get("tokens", options.tokens)
                ok = prompt.get("type") == "prompt" and type(count) is int
            except (ValueError, AttributeError):
                ok, prompt_id, count = False, None, 0
            if not ok or not 0 <= count <= options.max_tokens:
                await ws.send_str(dumps({"type": "error", "id": prompt_id,
                                         "reason": "bad prompt"}))
                continue
            stats["streams_started"] += 1
            # A doomed session is cut in its first stream, after half its tokens.
            cut_at = count // 2 if doomed and count > 0 else -1
            try:
                completed = await stream(ws, prompt_id, count, cut_at)
            except ConnectionError:  # the client went away mid-stream
                break
            if not completed:
                stats["streams_cut"] += 1
                break
            stats["streams_completed"] += 1
        return ws

    async def get_stats(request):
        return web.json_response(stats, dumps=dumps)

    app.router.add_post("/sessions", create_session)
    app.router.add_get("/ws/{session_id}", websocket)
    app.router.add_get("/stats", get_stats)
    return app


async def main():
    options = parse_args()
    runner = web.AppRunner(make_app(options), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=options.backlog, shutdown_timeout=0.5)
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
    # One write, so a reader never sees the number without its newline.
    sys.stdout.write(f"{runner.addresses[0][1]}\n")
    sys.stdout.flush()
    await stop
    try:  # open WebSockets would otherwise hold cleanup up
        await asyncio.wait_for(runner.cleanup(), 2)
    except asyncio.TimeoutError:
        pass


asyncio.run(main())
