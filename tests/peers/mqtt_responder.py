#!/usr/bin/env python3
"""An MQTT 5 request/response service behind a broker, for horde's MQTT
tests: a client of its own (Python `websockets`, MQTT packets written here,
no horde code) that subscribes to a topic filter and answers every request
on the request's Response Topic, as MQTT 5 §4.10 describes.

    mqtt_responder.py ws://127.0.0.1:PORT/ [filter=service/#]

The answer to a JSON request {"id": X, ...} is {"id": X, "result": "served",
"topic": <the request's topic>}; anything else is answered with its own
bytes. Prints "ready" once its SUBACK came (the first stdout line), and
the number of requests it answered when it ends: when stdin closes, on
SIGTERM, or when the broker goes away.
"""
import asyncio
import json
import signal
import struct
import sys

import websockets


def varint(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string(s):
    return struct.pack("!H", len(s)) + s


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def read_varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def packets(buffer):
    """Whole packets at the start of buffer: [(first byte, body)], the rest."""
    out = []
    while len(buffer) >= 2:
        try:
            size, at = read_varint(buffer, 1)
        except IndexError:
            break
        if len(buffer) < at + size:
            break
        out.append((buffer[0], buffer[at:at + size]))
        buffer = buffer[at + size:]
    return out, buffer


def response_topic(props):
    """The Response Topic (0x08) among a PUBLISH's properties, or None."""
    at = 0
    while at < len(props):
        ident = props[at]
        at += 1
        if ident == 0x08:
            size = struct.unpack("!H", props[at:at + 2])[0]
            return props[at + 2:at + 2 + size]
        if ident == 0x01:  # payload format indicator: one byte
            at += 1
        elif ident in (0x02,):  # message expiry: four bytes
            at += 4
        elif ident == 0x09 or ident == 0x03:  # correlation data, content type
            at += 2 + struct.unpack("!H", props[at:at + 2])[0]
        elif ident == 0x0B:  # subscription identifier
            _, at = read_varint(props, at)
        elif ident == 0x23:  # topic alias
            at += 2
        elif ident == 0x26:  # user property: two strings
            at += 2 + struct.unpack("!H", props[at:at + 2])[0]
            at += 2 + struct.unpack("!H", props[at:at + 2])[0]
        else:
            return None
    return None


def answer_to(topic, payload):
    try:
        request = json.loads(payload)
        return json.dumps({"id": request["id"], "result": "served",
                           "topic": topic.decode()}).encode()
    except (ValueError, KeyError, TypeError):
        return payload


async def serve(url, topic_filter, answered, ready):
    async with websockets.connect(url, subprotocols=["mqtt"], ping_interval=None,
                                  max_size=None) as ws:
        connect = b"\x00\x04MQTT\x05\x02\x00\x3c\x00" + string(b"horde-test-responder")
        await ws.send(packet(0x10, connect))
        await ws.send(packet(0x82, struct.pack("!H", 1) + b"\x00" + string(topic_filter) + b"\x00"))
        buffer = b""
        async for message in ws:
            got, buffer = packets(buffer + message)
            for first, body in got:
                if first >> 4 == 9:  # SUBACK
                    ready.set()
                if first >> 4 != 3:
                    continue
                size = struct.unpack("!H", body[:2])[0]
                topic, at = body[2:2 + size], 2 + size
                if first & 0x06:  # QoS 1: a packet id, and a PUBACK owed
                    ident = body[at:at + 2]
                    at += 2
                    await ws.send(packet(0x40, ident))
                props_size, at = read_varint(body, at)
                reply_to = response_topic(body[at:at + props_size])
                payload = body[at + props_size:]
                if reply_to is None:
                    continue
                await ws.send(packet(0x30, string(reply_to) + b"\x00" + answer_to(topic, payload)))
                answered[0] += 1


async def main():
    url = sys.argv[1]
    topic_filter = (sys.argv[2] if len(sys.argv) > 2 else "service/#").encode()
    answered = [0]
    ready, ending = asyncio.Event(), asyncio.Event()  # Event.set: idempotent
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, ending.set)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or ending.set())
    service = asyncio.ensure_future(serve(url, topic_filter, answered, ready))
    service.add_done_callback(lambda _: ending.set())
    first = [asyncio.ensure_future(ready.wait()), asyncio.ensure_future(ending.wait())]
    await asyncio.wait(first, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    print("ready" if ready.is_set() else "not ready", flush=True)
    await ending.wait()
    service.cancel()
    print(f"answered {answered[0]}", flush=True)


asyncio.run(main())
