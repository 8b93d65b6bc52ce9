#!/usr/bin/env python3
"""A TCP delay line for horde's tests, where the kernel has no sch_netem.

Usage: delay_proxy.py UPSTREAM_HOST UPSTREAM_PORT DELAY_MS

Binds 127.0.0.1 on a kernel-picked port, prints the port as its first stdout
line, and for every connection it accepts opens one to the upstream and
forwards bytes both ways. Each chunk read is stamped on arrival and written
on at arrival + DELAY_MS, in the order it arrived: a fixed one-way delay per
direction, so a request and its answer come back 2 x DELAY_MS late, plus the
proxy's own forwarding cost (two extra loopback hops and a thread hand-off
each way; measure it with DELAY_MS 0).

Threads, not asyncio: a thread sleeping in clock_nanosleep wakes within tens
of microseconds of its deadline, while asyncio's epoll wait rounds its
timeout up to whole milliseconds. Both sockets have TCP_NODELAY, so Nagle
does not hold a small chunk back for an ACK the delay line is still holding.

A FIN is forwarded (after the delay) as a FIN; a reset or error on either
side closes both. Exits when stdin closes or on SIGTERM. Standard library only.
"""
import os
import queue
import socket
import sys
import threading
import time


def nodelay(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def close_both(a, b):
    for s in (a, b):
        try:
            s.close()
        except OSError:
            pass


def delay_line(src, dst, delay):
    """Forwards src to dst, each chunk held until delay after it arrived."""
    held = queue.SimpleQueue()

    def read():
        try:
            while True:
                chunk = src.recv(65536)
                held.put((time.monotonic() + delay, chunk))
                if not chunk:
                    return
        except OSError:
            held.put((0.0, None))

    def write():
        try:
            while True:
                due, chunk = held.get()
                if chunk is None:
                    close_both(src, dst)
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if not chunk:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(chunk)
        except OSError:
            close_both(src, dst)

    for job in (read, write):
        threading.Thread(target=job, daemon=True).start()


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: delay_proxy.py UPSTREAM_HOST UPSTREAM_PORT DELAY_MS")
    upstream = (sys.argv[1], int(sys.argv[2]))
    delay = float(sys.argv[3]) / 1000.0
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    print(listener.getsockname()[1], flush=True)

    def accept():
        while True:
            client, _ = listener.accept()
            try:
                server = socket.create_connection(upstream)
            except OSError:
                client.close()
                continue
            nodelay(client)
            nodelay(server)
            delay_line(client, server, delay)
            delay_line(server, client, delay)

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
