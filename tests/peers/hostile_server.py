#!/usr/bin/env python3
"""A hostile WebSocket server for horde's tests: one process, every misbehaviour.

Two listeners on 127.0.0.1, ports picked by the kernel, printed one a line:
  line 1: the plain port. The first path segment of each upgrade request
          chooses the misbehaviour: ws://127.0.0.1:PORT/stop_reading. A TLS
          ClientHello (bytes 16 03) arriving here is answered in plain HTTP
          (mode plain_on_tls), whatever the path.
  line 2: the TLS port (self-signed P-256 certificate for localhost, made at
          start with the openssl tool). A TLS client gets a real handshake and
          then the same modes; a plain-text request gets a fatal TLS alert
          record instead (mode tls_on_plain), as a TLS server would answer.

Every mode misbehaves in exactly one way and is correct otherwise: frames are
written by hand (server frames are unmasked, RFC 6455 section 5.1), and after
the bad bytes a frame-level mode still answers the client's close.

Serves until stdin closes or SIGTERM, then prints to stderr how many
connections each mode served. Standard library only (ssl for the TLS
listener). `--list` prints the modes and what each sends.
"""
import base64
import hashlib
import os
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Longest a connection is held open for a client that never closes (a
# run's close can get stuck behind a full window): bounds the threads left.
HOLD_SECONDS = 30.0
REQUEST_LIMIT = 64 * 1024
# The RFC 6455 example key: its accept value is valid base64 of the right
# length, and right for a key no client will send.
SAMPLE_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
# A fatal TLS alert record: content type 21 (alert), TLS 1.2 record version,
# length 2, level fatal (2), description protocol_version (70).
TLS_ALERT = b"\x15\x03\x03\x00\x02\x02\x46"

stopping = threading.Event()
counts = {}
counts_lock = threading.Lock()


def count(mode):
    with counts_lock:
        counts[mode] = counts.get(mode, 0) + 1


# ---------------------------------------------------------------- frames ---


def frame(opcode, payload=b"", fin=True, rsv=0, mask=None, length=None):
    """One frame's bytes. `length` overrides the header's length field (the
    payload is then not what the header says); `mask` masks the payload."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if mask is not None else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", n)
    if mask is not None:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


def close_frame(code, reason=b""):
    return frame(0x8, struct.pack(">H", code) + reason)


class client_frames:
    """Parses the client's (masked) frames; feed() returns the complete ones
    as (opcode, fin, payload). Enough for answering pings and closes."""

    def __init__(self):
        self.buffer = b""

    def feed(self, data):
        self.buffer += data
        frames = []
        while True:
            b = self.buffer
            if len(b) < 2:
                return frames
            n = b[1] & 0x7F
            at = 2
            if n == 126:
                if len(b) < 4:
                    return frames
                n, at = struct.unpack(">H", b[2:4])[0], 4
            elif n == 127:
                if len(b) < 10:
                    return frames
                n, at = struct.unpack(">Q", b[2:10])[0], 10
            mask = None
            if b[1] & 0x80:
                if len(b) < at + 4:
                    return frames
                mask, at = b[at:at + 4], at + 4
            if len(b) < at + n:
                return frames
            payload = b[at:at + n]
            if mask is not None:
                payload = bytes(x ^ mask[i % 4] for i, x in enumerate(payload))
            frames.append((b[0] & 0x0F, bool(b[0] & 0x80), payload))
            self.buffer = b[at + n:]


# ----------------------------------------------------------------- HTTP ----


def key_of(request):
    for line in request.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            return value.strip()
    return b""


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def mode_of(request):
    """The first path segment of the request line: GET /mode/... HTTP/1.1."""
    parts = request.split(b"\r\n", 1)[0].split(b" ")
    if len(parts) < 2:
        return ""
    path = parts[1].split(b"?", 1)[0]
    return path.lstrip(b"/").split(b"/", 1)[0].decode("latin-1")


def switching(request, upgrade=True, accept=None, extensions=None):
    """A 101 answer; by default a valid one for this request. `extensions`
    goes out as Sec-WebSocket-Extensions, asked for or not."""
    if accept is None:
        accept = accept_for(key_of(request))
    lines = [b"HTTP/1.1 101 Switching Protocols"]
    if upgrade:
        lines.append(b"Upgrade: websocket")
    lines += [b"Connection: Upgrade", b"Sec-WebSocket-Accept: " + accept]
    if extensions is not None:
        lines.append(b"Sec-WebSocket-Extensions: " + extensions)
    return b"\r\n".join(lines) + b"\r\n\r\n"


# ------------------------------------------------------------ behaviours ---


def hold_unread(conn):
    """Keeps the connection open without reading a byte, until the client
    hangs up (POLLRDHUP/POLLHUP/POLLERR: seen without reading), the server
    stops, or HOLD_SECONDS pass."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    deadline = time.monotonic() + HOLD_SECONDS
    while not stopping.is_set() and time.monotonic() < deadline:
        if poller.poll(200):
            return


def drain(conn):
    """Reads and discards until EOF, an error, or HOLD_SECONDS."""
    deadline = time.monotonic() + HOLD_SECONDS
    conn.settimeout(0.2)
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            if not conn.recv(65536):
                return
        except socket.timeout:
            continue
        except (OSError, ssl.SSLError):
            return


def behave(conn, echo=False, parser=None):
    """A correct server from here on: pongs for pings, the close echoed (RFC
    6455 section 5.5.1) and then the TCP connection closed by us; with
    `echo`, data frames echoed too."""
    parser = parser or client_frames()
    deadline = time.monotonic() + HOLD_SECONDS
    conn.settimeout(0.2)
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            data = conn.recv(65536)
        except socket.timeout:
            continue
        except (OSError, ssl.SSLError):
            return
        if not data:
            return
        for opcode, fin, payload in parser.feed(data):
            if opcode == 0x8:
                conn.sendall(frame(0x8, payload[:2]))
                return
            if opcode == 0x9:
                conn.sendall(frame(0xA, payload))
            elif echo and opcode in (0x0, 0x1, 0x2):
                conn.sendall(frame(opcode, payload, fin=fin))


def flood(conn, chunk):
    """Writes `chunk` (whole frames) as fast as the client takes it, never
    reading, until the connection fails or HOLD_SECONDS pass."""
    conn.settimeout(HOLD_SECONDS)
    deadline = time.monotonic() + HOLD_SECONDS
    while not stopping.is_set() and time.monotonic() < deadline:
        conn.sendall(chunk)


def flood_and_answer(conn, chunk):
    """Writes `chunk` (whole frames) whenever the socket takes it, and reads
    meanwhile: a ping gets its pong and a close its echo after the frames
    already queued, so frames stay whole. Ends at EOF."""
    conn.setblocking(False)
    parser = client_frames()
    pending = b""
    closing = False
    deadline = time.monotonic() + HOLD_SECONDS
    while not stopping.is_set() and time.monotonic() < deadline:
        if not pending and not closing:
            pending = chunk
        readable, writable, _ = select.select([conn], [conn] if pending else [], [], 0.2)
        if readable:
            data = conn.recv(65536)
            if not data:
                return
            for opcode, _, payload in parser.feed(data):
                if opcode == 0x8 and not closing:
                    pending += frame(0x8, payload[:2])
                    closing = True
                elif opcode == 0x9 and not closing:
                    pending += frame(0xA, payload)
        if writable and pending:
            try:
                sent = conn.send(pending)
            except BlockingIOError:
                sent = 0
            pending = pending[sent:]
        if closing and not pending:
            return


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


PAD = b"a" * 64


def m_stop_reading(conn, request):
    conn.sendall(switching(request))
    hold_unread(conn)


def m_ping_storm(conn, request):
    conn.sendall(switching(request))
    flood(conn, frame(0x9) * 4096)


def m_silent(conn, request):
    drain(conn)


def m_slow_drip(conn, request):
    conn.settimeout(HOLD_SECONDS)
    answer = switching(request)
    for i in range(len(answer)):
        if stopping.wait(0.3):
            return
        conn.sendall(answer[i:i + 1])
    behave(conn)


def m_wrong_accept(conn, request):
    conn.sendall(switching(request, accept=accept_for(SAMPLE_KEY)))
    drain(conn)


def m_endless_header(conn, request):
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\n")
    conn.settimeout(HOLD_SECONDS)
    n = 0
    deadline = time.monotonic() + HOLD_SECONDS
    while not stopping.is_set() and time.monotonic() < deadline:
        conn.sendall(b"".join(b"X-Pad-%d: %s\r\n" % (n + i, PAD) for i in range(64)))
        n += 64


def m_status_401(conn, request):
    # Keep-alive: the connection stays open; the client must not wait for EOF.
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"horde\"\r\n"
                 b"Content-Length: 0\r\n\r\n")
    drain(conn)


def m_status_503(conn, request):
    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 12\r\nConnection: close\r\n\r\nbusy, later\n")


def m_garbage(conn, request):
    conn.sendall(b"\x00\xff\xfeNOT HTTP AT ALL\r\n\r\n")
    drain(conn)


def m_no_upgrade_header(conn, request):
    conn.sendall(switching(request, upgrade=False))
    drain(conn)


def frame_mode(bad):
    """A mode that upgrades correctly, sends `bad` and is correct after."""

    def serve(conn, request):
        conn.sendall(switching(request) + bad)
        behave(conn)

    return serve


def deflated(data):
    """permessage-deflate's payload for `data` (RFC 7692 7.2.1): raw DEFLATE,
    a sync flush, its 00 00 ff ff tail cut."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def deflate_mode(extensions, bad=lambda: b""):
    """A mode whose 101 carries `extensions`, then sends bad() (made when a
    client comes: the bomb takes a moment) and is correct after."""

    def serve(conn, request):
        conn.sendall(switching(request, extensions=extensions) + bad())
        behave(conn)

    return serve


def m_giant_message(conn, request):
    size = 32 * 1024 * 1024
    conn.sendall(switching(request) + frame(0x2, length=size))
    conn.settimeout(HOLD_SECONDS)
    zeros = bytes(65536)
    for _ in range(size // len(zeros)):
        if stopping.is_set():
            return
        conn.sendall(zeros)
    behave(conn)


def m_close_4001(conn, request):
    conn.sendall(switching(request) + close_frame(4001, b"go away"))
    behave(conn)


def m_reset_after_upgrade(conn, request):
    conn.sendall(switching(request))
    if stopping.wait(0.3):
        return
    reset(conn)


def m_half_close(conn, request):
    conn.sendall(switching(request))
    conn.shutdown(socket.SHUT_WR)
    drain(conn)


def m_pong_never(conn, request):
    conn.sendall(switching(request))
    drain(conn)


def m_tiny_frame_flood(conn, request):
    conn.sendall(switching(request))
    flood_and_answer(conn, frame(0x1, b"x") * 8192)


def m_echo(conn, request):
    conn.sendall(switching(request))
    behave(conn, echo=True)


# mode -> (handler, what it sends). "echo" is the control: a correct server.
PMD = b"permessage-deflate"
MODES = {
    "stop_reading": (m_stop_reading, "valid 101, then never reads (holds until the client hangs up)"),
    "ping_storm": (m_ping_storm, "valid 101, then 89 00 (empty ping) as fast as the socket takes it; never reads"),
    "silent": (m_silent, "reads the request, never answers"),
    "silent_until_end": (m_silent, "reads the request, never answers (run with a long upgrade timeout)"),
    "slow_drip": (m_slow_drip, "a valid 101, one byte every 300 ms"),
    "wrong_accept": (m_wrong_accept, "101 with Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo= (the RFC sample key's)"),
    "endless_header": (m_endless_header, "HTTP/1.1 101 Switching Protocols CRLF, then X-Pad-N: a*64 CRLF forever"),
    "status_401": (m_status_401, "HTTP/1.1 401 Unauthorized, WWW-Authenticate, Content-Length: 0; stays open"),
    "status_503": (m_status_503, "HTTP/1.1 503 Service Unavailable, Retry-After: 5, a 12-byte body, then FIN"),
    "garbage": (m_garbage, "00 ff fe 'NOT HTTP AT ALL' CRLF CRLF"),
    "no_upgrade_header": (m_no_upgrade_header, "101 with Connection and a correct Accept, no Upgrade header"),
    "huge_length": (frame_mode(frame(0x2, length=2**63 - 1)), "valid 101, then 82 7f 7f ff ff ff ff ff ff ff and no payload"),
    "giant_message": (m_giant_message, "valid 101, then 82 7f 00 00 00 00 02 00 00 00 and 32 MiB of zeros"),
    "masked_frame": (frame_mode(frame(0x1, b"Hello", mask=b"\x37\xfa\x21\x3d")), "valid 101, then 81 85 37 fa 21 3d 7f 9f 4d 51 58 (RFC 6455 5.7 masked 'Hello')"),
    "bad_utf8": (frame_mode(frame(0x1, b"hi\xc0\xaf")), "valid 101, then 81 04 68 69 c0 af (overlong '/')"),
    "rsv_bits": (frame_mode(frame(0x1, b"hi", rsv=4)), "valid 101, then c1 02 68 69 (RSV1, no extension)"),
    "reserved_opcode": (frame_mode(frame(0x3, b"hi")), "valid 101, then 83 02 68 69 (opcode 3)"),
    "fragmented_ping": (frame_mode(frame(0x9, b"hi", fin=False)), "valid 101, then 09 02 68 69 (ping without FIN)"),
    "long_ping": (frame_mode(frame(0x9, b"p" * 126)), "valid 101, then 89 7e 00 7e and 126 bytes 'p'"),
    "bad_close_code": (frame_mode(close_frame(1005)), "valid 101, then 88 02 03 ed (close 1005)"),
    "continuation_first": (frame_mode(frame(0x0, b"hi")), "valid 101, then 80 02 68 69 (continuation, nothing started)"),
    "close_4001": (m_close_4001, "valid 101, then 88 09 0f a1 'go away' (close 4001); closes TCP after the client's close"),
    "reset_after_upgrade": (m_reset_after_upgrade, "valid 101, 300 ms, then RST (SO_LINGER 0)"),
    "half_close": (m_half_close, "valid 101, then shutdown(SHUT_WR) (FIN); keeps reading"),
    "pong_never": (m_pong_never, "valid 101, then reads and discards everything; never a pong nor a close"),
    "tiny_frame_flood": (m_tiny_frame_flood, "valid 101, then 81 01 78 without end; answers pings and the close"),
    "echo": (m_echo, "control: a correct echo server"),
    "deflate_unasked": (deflate_mode(PMD), "101 with Sec-WebSocket-Extensions: permessage-deflate, asked for or not"),
    "deflate_bad_window": (deflate_mode(PMD + b"; server_max_window_bits=7"), "101 accepting permessage-deflate with server_max_window_bits=7 (RFC 7692 allows 8..15)"),
    "deflate_garbage": (deflate_mode(PMD, lambda: frame(0x2, b"\xff\xff\xff\xff", rsv=4)), "101 with permessage-deflate, then c2 04 ff ff ff ff (RSV1, not DEFLATE data)"),
    "deflate_bomb": (deflate_mode(PMD, lambda: frame(0x2, deflated(bytes(32 << 20)), rsv=4)), "101 with permessage-deflate, then one compressed binary message of 32 MiB of zeros (~32 KiB on the wire)"),
    "deflate_rsv1_continuation": (deflate_mode(PMD, lambda: frame(0x1, deflated(b"Hello")[:3], fin=False, rsv=4) + frame(0x0, deflated(b"Hello")[3:], rsv=4)), "101 with permessage-deflate, then a compressed message whose continuation also has RSV1"),
}
# Not path-chosen: decided by the first bytes on a listener.
LISTENER_MODES = {
    "plain_on_tls": "on the plain port, a ClientHello (16 03 ...) gets 'HTTP/1.1 400 Bad Request' CRLF "
                    "'Content-Length: 0' CRLF CRLF, then FIN",
    "tls_on_plain": "on the TLS port, a plain request gets 15 03 03 00 02 02 46 (fatal alert protocol_version), then FIN",
}


# ----------------------------------------------------------- listeners -----


def read_request(conn, first=b""):
    data = first
    while b"\r\n\r\n" not in data:
        if len(data) > REQUEST_LIMIT:
            return None
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


def read_tls_record(conn, data):
    """Reads until the TLS record that `data` begins is whole."""
    conn.settimeout(5)
    while len(data) < 5 or len(data) < 5 + struct.unpack(">H", data[3:5])[0]:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def serve_request(conn, request):
    mode = mode_of(request)
    handler = MODES.get(mode)
    if handler is None:
        count("unknown:" + mode[:32])
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
    count(mode)
    handler[0](conn, request)


def serve_plain(conn):
    try:
        conn.settimeout(HOLD_SECONDS)
        first = conn.recv(4096)
        while first and len(first) < 2:
            more = conn.recv(4096)
            if not more:
                break
            first += more
        if first[:2] == b"\x16\x03":
            count("plain_on_tls")
            read_tls_record(conn, first)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        request = read_request(conn, first)
        if request is not None:
            serve_request(conn, request)
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def serve_tls(conn, context):
    try:
        conn.settimeout(HOLD_SECONDS)
        first = conn.recv(2, socket.MSG_PEEK | socket.MSG_WAITALL)
        if first[:1] != b"\x16":
            count("tls_on_plain")
            read_request(conn)
            conn.sendall(TLS_ALERT)
            return
        if context is None:
            return
        conn = context.wrap_socket(conn, server_side=True)
        request = read_request(conn)
        if request is not None:
            serve_request(conn, request)
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def make_tls_context(directory):
    """A server context with a fresh self-signed certificate; None when the
    openssl tool is missing (tls_on_plain needs no certificate: only a
    wss:// client of the TLS port is then turned away)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1", "-keyout", key, "-out", cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"hostile_server: no certificate ({error}); the TLS port only answers plain text",
              file=sys.stderr, flush=True)
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def listen():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    return listener


def accept_loop(listener, serve, *args):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn, *args), daemon=True).start()


def finish(*_):
    stopping.set()
    with counts_lock:
        summary = " ".join(f"{mode}={n}" for mode, n in sorted(counts.items()))
    print(f"hostile_server: connections by mode: {summary or 'none'}", file=sys.stderr, flush=True)
    os._exit(0)


def main():
    if sys.argv[1:] == ["--list"]:
        for mode, (_, what) in MODES.items():
            print(f"{mode:20} {what}")
        for mode, what in LISTENER_MODES.items():
            print(f"{mode:20} {what}")
        return
    with tempfile.TemporaryDirectory() as directory:
        context = make_tls_context(directory)
    plain, tls = listen(), listen()
    print(plain.getsockname()[1], flush=True)
    print(tls.getsockname()[1], flush=True)
    signal.signal(signal.SIGTERM, finish)
    threading.Thread(target=accept_loop, args=(plain, serve_plain), daemon=True).start()
    threading.Thread(target=accept_loop, args=(tls, serve_tls, context), daemon=True).start()
    sys.stdin.read()
    finish()


if __name__ == "__main__":
    main()
