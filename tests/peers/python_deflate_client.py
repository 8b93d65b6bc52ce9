"""A permessage-deflate client no one here wrote (Python `websockets`), to
check `horde serve --compression accept` from the other side: it offers the
extension with the parameters given, sends text that compresses, random
bytes that do not, a message larger than any window and an empty one, and
checks each echo byte for byte.

Prints one JSON line: the 101's Sec-WebSocket-Extensions, messages sent and
echoed, mismatches. Exit 0 when every echo matched, 1 otherwise, 2 when the
connection failed. Bounded: 10 s for the whole exchange.
"""

import argparse
import asyncio
import json
import random
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory


def window(value):
    return True if value == "offer" else int(value)


def payloads(count):
    rng = random.Random(7)
    out = []
    for i in range(count):
        out.append(json.dumps({"seq": i, "user": "user-%d" % (i % 10), "text": "hello " * 300}))
    out.append(bytes(rng.getrandbits(8) for _ in range(3000)))
    out.append("x" * 65536 + "".join(chr(65 + rng.randrange(26)) for _ in range(1000)))
    out.append("")
    return out


async def exchange(args):
    factory = ClientPerMessageDeflateFactory(
        server_no_context_takeover=args.server_no_context_takeover,
        client_no_context_takeover=args.client_no_context_takeover,
        server_max_window_bits=args.server_max_window_bits,
        client_max_window_bits=window(args.client_max_window_bits)
        if args.client_max_window_bits
        else None,
    )
    async with websockets.connect(
        args.url, extensions=[factory], compression=None, max_size=2**20
    ) as ws:
        sent = payloads(args.messages)
        mismatched = 0
        for message in sent:
            await ws.send(message)
            if await ws.recv() != message:
                mismatched += 1
        return {
            "extensions": ws.response_headers.get("Sec-WebSocket-Extensions", ""),
            "sent": len(sent),
            "mismatched": mismatched,
        }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--server-max-window-bits", type=int)
    parser.add_argument("--client-max-window-bits", help="N, or 'offer' (no value)")
    parser.add_argument("--server-no-context-takeover", action="store_true")
    parser.add_argument("--client-no-context-takeover", action="store_true")
    args = parser.parse_args()
    try:
        outcome = asyncio.run(asyncio.wait_for(exchange(args), 10))
    except Exception as error:  # the test prints it
        print(json.dumps({"error": repr(error)}), flush=True)
        sys.exit(2)
    print(json.dumps(outcome), flush=True)
    sys.exit(0 if outcome["mismatched"] == 0 else 1)


if __name__ == "__main__":
    main()
