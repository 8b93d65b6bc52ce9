#!/usr/bin/env python3
"""Mosquitto (Debian's `mosquitto`, a broker no one here wrote) with one
WebSocket listener on loopback, for horde's MQTT tests and bench.

Mosquitto cannot listen on port 0, so a free port is asked of the kernel
first and the broker started on it (again on another port if it lost the
race). Prints the port as its first stdout line and the broker's pid as the
second (for --target-pid). The config, written to a temporary directory:
`listener PORT 127.0.0.1`, `protocol websockets`, `allow_anonymous true`,
`max_connections -1`, no persistence (and a plain MQTT listener, see
start()). The broker gets this process's hard
file limit as its soft one (10,000 clients need 10,000 sockets). Exits, and
stops the broker, when stdin closes or on SIGTERM.
"""
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def raise_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start(directory):
    for _ in range(5):
        port, tcp_port = free_port(), free_port()
        config = os.path.join(directory, "mosquitto.conf")
        with open(config, "w") as f:
            # Mosquitto 2.0.11 with only a websockets listener often exits
            # with "Unable to start any listening sockets" though libwebsockets
            # listened; a plain MQTT listener beside it avoids that.
            f.write(f"listener {port} 127.0.0.1\nprotocol websockets\n"
                    f"listener {tcp_port} 127.0.0.1\nprotocol mqtt\n"
                    "allow_anonymous true\nmax_connections -1\npersistence false\n"
                    "log_dest stderr\nlog_type error\n")
        log = open(os.path.join(directory, "mosquitto.log"), "w")
        broker = subprocess.Popen(["mosquitto", "-c", config], preexec_fn=raise_files,
                                  stdin=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and broker.poll() is None:
            if listening(port):
                return port, broker
            time.sleep(0.05)
        broker.kill()
        broker.wait()
        with open(os.path.join(directory, "mosquitto.log")) as log:
            sys.stderr.write(log.read())
    sys.exit("mosquitto did not start (is the Debian package installed?)")


def main():
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto not found: apt-get install mosquitto")
    directory = tempfile.mkdtemp(prefix="horde_mosquitto_")
    port, broker = start(directory)
    signal.signal(signal.SIGTERM, lambda *_: sys.stdin.close() or sys.exit(0))
    print(port, flush=True)
    print(broker.pid, flush=True)
    try:
        sys.stdin.read()
    except (ValueError, OSError):
        pass
    finally:
        broker.terminate()
        try:
            broker.wait(5)
        except subprocess.TimeoutExpired:
            broker.kill()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
