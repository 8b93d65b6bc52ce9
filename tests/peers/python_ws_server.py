#!/usr/bin/env python3
"""Echo server on Python `websockets` (Debian's python3-websockets), a
WebSocket stack no one here wrote, for horde's tests.

Binds 127.0.0.1 on a kernel-picked port and prints the port as its first
stdout line. Echoes text as text and binary as binary. With --fragment N it
sends each echo as fragments of N bytes (a fragmented message), and with
--close-after N it closes with code 4000 after N messages. With --tls-cert
FILE (certificate chain and key in one PEM) it serves wss:// through Python's
ssl module. permessage-deflate is websockets' default (window 12 both ways);
--no-compression turns it off and the --deflate-* options set what the server
answers instead (RFC 7692 parameters). Exits when stdin closes or on SIGTERM.
"""
import argparse
import asyncio
import signal
import ssl
import sys

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


def chunks(data, size):
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fragment", type=int, default=0)
    parser.add_argument("--close-after", type=int, default=0)
    parser.add_argument("--tls-cert", default="")
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--deflate-server-no-context-takeover", action="store_true")
    parser.add_argument("--deflate-client-no-context-takeover", action="store_true")
    parser.add_argument("--deflate-server-max-window-bits", type=int, default=None)
    parser.add_argument("--deflate-client-max-window-bits", type=int, default=None)
    options = parser.parse_args()
    compression = {}  # websockets' own default
    if options.no_compression:
        compression = {"compression": None}
    elif any(v not in (None, False) for k, v in vars(options).items() if k.startswith("deflate_")):
        compression = {"compression": None, "extensions": [ServerPerMessageDeflateFactory(
            server_no_context_takeover=options.deflate_server_no_context_takeover,
            client_no_context_takeover=options.deflate_client_no_context_takeover,
            server_max_window_bits=options.deflate_server_max_window_bits,
            client_max_window_bits=options.deflate_client_max_window_bits)]}
    tls = None
    if options.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(options.tls_cert)

    async def echo(socket, path=None):
        count = 0
        try:
            async for message in socket:
                if options.fragment > 0 and len(message) > options.fragment:
                    await socket.send(chunks(message, options.fragment))
                else:
                    await socket.send(message)
                count += 1
                if options.close_after and count >= options.close_after:
                    await socket.close(code=4000, reason="enough")
                    return
        except websockets.ConnectionClosed:
            pass

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    def finish():  # stdin's end and SIGTERM may both come
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, finish)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or finish())
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=64 * 1024 * 1024,
                                max_queue=None, ping_interval=None, backlog=4096,
                                ssl=tls, **compression) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await stop


asyncio.run(main())
