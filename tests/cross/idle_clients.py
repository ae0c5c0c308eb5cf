#!/usr/bin/env python3
"""What a WebSocket server's idle connections cost in resident memory.

Starts a server command (for example `qemu-arm -L /usr/arm-linux-gnueabihf
./echo_server 127.0.0.1:0`), reads the address from its first line
(`... listening on ws://HOST:PORT`), reads the process's VmRSS from
/proc/PID/status, then opens idle WebSocket connections (a valid RFC 6455
upgrade, the 101 read and its Sec-WebSocket-Accept checked, then nothing)
and reads VmRSS again after each count. Prints one line:

    rss_kib_start=N rss_kib_at_100=N rss_kib_at_1000=N

Under qemu-user the process is the emulator, so its RSS includes qemu's own
memory (translated code, per-thread state). Started with `qemu-arm -B BASE`
(and `-R SIZE` for a 64-bit guest), the guest's memory lies in [BASE,
BASE + SIZE): `--guest BASE:SIZE` then also prints guest_kib_* figures, the
resident KiB of the mappings in that range (/proc/PID/smaps), which is what
the program itself holds. Standard library only; every wait is bounded.

    tests/cross/idle_clients.py --counts 100,1000 -- ./echo_server 127.0.0.1:0
    tests/cross/idle_clients.py --guest 0x4000000000:0x100000000 -- \
        qemu-arm -B 0x4000000000 -L /usr/arm-linux-gnueabihf ./echo_server 127.0.0.1:0
"""

import argparse
import base64
import hashlib
import os
import re
import resource
import socket
import subprocess
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def guest_rss_kib(pid, base, size):
    """The resident KiB of the mappings inside [base, base + size): under
    qemu-user started with `-B base -R size`, the guest's own memory."""
    total = 0
    inside = False
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            head = line.split(None, 1)[0]
            if "-" in head and not head.endswith(":"):
                start, end = (int(x, 16) for x in head.split("-"))
                inside = base <= start and end <= base + size
            elif head == "Rss:" and inside:
                total += int(line.split()[1])
    return total


def measure(pid, guest):
    rss = vm_rss_kib(pid)
    return (rss, guest_rss_kib(pid, *guest)) if guest else (rss,)


def settled(pid, settle, guest):
    """The figures once they have stopped growing (or after `settle` s)."""
    deadline = time.monotonic() + settle
    last = measure(pid, guest)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = measure(pid, guest)
        if now == last:
            return now
        last = now
    return last


def open_idle(host, port, timeout):
    """One connection through the opening handshake, then left idle."""
    sock = socket.create_connection((host, port), timeout=timeout)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: " + f"{host}:{port}".encode() + b"\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError(f"connection closed during the handshake: {head!r}")
        head += chunk
        if len(head) > 16384:
            raise RuntimeError("handshake answer too long")
    status, *fields = head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    if not status.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"not a 101: {status!r}")
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    values = [v.strip() for n, _, v in (f.partition(b":") for f in fields)
              if n.strip().lower() == b"sec-websocket-accept"]
    if values != [accept]:
        raise RuntimeError(f"wrong or missing Sec-WebSocket-Accept: {head!r}")
    return sock


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="100,1000",
                        help="connection counts to measure at, ascending")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="longest wait for the RSS to stop growing, seconds")
    parser.add_argument("--timeout", type=float, default=20.0,
                        help="timeout of each connect and handshake, seconds")
    parser.add_argument("--guest", metavar="BASE:SIZE",
                        help="also report the resident KiB inside this address range "
                             "(qemu-user's -B BASE -R SIZE: the guest's own memory)")
    parser.add_argument("command", nargs="+", help="the server command (after --)")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    guest = tuple(int(x, 0) for x in args.guest.split(":")) if args.guest else None

    # Room for the client's and the server's sockets (the server lowers its
    # connection limit to what `ulimit -n` allows).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(counts) + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    server = subprocess.Popen(args.command, stdout=subprocess.PIPE, text=True)
    sockets = []
    try:
        line = server.stdout.readline()
        match = re.search(r"ws://(\S+):(\d+)", line)
        if not match:
            raise RuntimeError(f"no address in the server's first line: {line!r}")
        host, port = match.group(1).strip("[]"), int(match.group(2))
        results = [("start", settled(server.pid, args.settle, guest))]
        started = time.monotonic()
        for count in counts:
            while len(sockets) < count:
                sockets.append(open_idle(host, port, args.timeout))
            results.append((f"at_{count}", settled(server.pid, args.settle, guest)))
        # The server pings after 20 s of silence and gives up 20 s later;
        # a measurement that took that long would count failing connections.
        elapsed = time.monotonic() - started
        if elapsed > 35:
            raise RuntimeError(f"connecting took {elapsed:.0f} s; keepalive may have cut in")
        fields = [f"rss_kib_{name}={kib[0]}" for name, kib in results]
        if guest:
            fields += [f"guest_kib_{name}={kib[1]}" for name, kib in results]
        print(" ".join(fields), flush=True)
    finally:
        for sock in sockets:
            sock.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
