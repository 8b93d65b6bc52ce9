#!/usr/bin/env python3
"""A deliberately bad WebSocket server for horde's tests.

Binds 127.0.0.1 on a kernel-picked port, prints the port as its first stdout
line, then treats every connection according to MODE:
  refuse403  answers the upgrade with HTTP 403
  limit429   answers with HTTP 429 and Retry-After: 7
  reset      closes with RST as soon as the request arrives
  garbage    answers the upgrade with bytes that are not HTTP
  badaccept  answers 101 with a wrong Sec-WebSocket-Accept
  silent     reads the request and never answers
  badframe   completes the upgrade, then sends a frame with reserved bits set
Exits when stdin closes or on SIGTERM. Standard library only.
"""
import base64
import hashlib
import socket
import struct
import sys
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


def key_of(request):
    for line in request.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            return value.strip()
    return b""


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def serve(conn, mode):
    try:
        request = read_request(conn)
        if request is None:
            return
        if mode == "refuse403":
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        elif mode == "limit429":
            conn.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n")
        elif mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode == "garbage":
            conn.sendall(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
        elif mode == "badaccept":
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n")
        elif mode == "silent":
            threading.Event().wait(60)
        elif mode == "badframe":
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept_for(key_of(request)) + b"\r\n\r\n")
            conn.sendall(b"\xf1\x02hi")  # RSV1-3 set with no extension negotiated
            threading.Event().wait(5)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    mode = sys.argv[1]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    print(listener.getsockname()[1], flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), listener.close(), sys.exit(0)), daemon=True).start()
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
