"""Shared by peer_server.py and peer_client.py, the Python peers of
tests/interop_python.rs.

Both sides of every interop test build their payloads with the same
deterministic generator (`payload`), so each side can check what it received
without shipping the bytes (or a hash of them) across: a message of a given
kind and size has exactly one expected content. tests/interop_python.rs has
the same generator in Rust; keep the two in step.

Observations go to stdout as one JSON object per line (`emit`); the Rust test
reads them in order.
"""

import asyncio
import json
import sys

# websockets limits incoming messages to 1 MiB by default; the tests go to 16 MiB.
MAX_SIZE = 2**25

# A mix of 1-, 2-, 3- and 4-byte UTF-8 characters, so that sizes and fragment
# boundaries fall inside characters.
TEXT_UNIT = "wslite→Python ✓ é 😀 interop; ".encode("utf-8")

KiB = 1024
MiB = 1024 * KiB
# The message sizes of the size sweep: the three payload length encodings of
# RFC 6455 §5.2 and their edges, then bulk.
SIZES = [0, 1, 125, 126, 65535, 65536, 1 * MiB, 16 * MiB]

# The fixed texts of the scripted behaviours.
PY_CLOSE_REASON = "bye ✓ from python"
PING_PAYLOAD_PY = b"python ping \x00\xff"
MID_PING_PAYLOAD = b"between fragments"


def payload(kind, size):
    """The expected content of a `kind` ("text" or "binary") message of
    `size` bytes, as bytes."""
    if kind == "binary":
        unit = bytes((i * 31 + 7) & 0xFF for i in range(251))
        return (unit * (size // len(unit) + 1))[:size]
    data = bytearray((TEXT_UNIT * (size // len(TEXT_UNIT) + 1))[:size])
    # The cut may split the last character: replace its bytes with dots.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        data[e.start :] = b"." * (size - e.start)
    return bytes(data)


def kind_of(message):
    return "text" if isinstance(message, str) else "binary"


def raw_bytes(message):
    return message.encode("utf-8") if isinstance(message, str) else bytes(message)


def emit(**fields):
    """One observation, as a JSON line on stdout."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def close_info(ws):
    """What the connection knows of its closing handshake: the code and reason
    it received (`code`/`reason`, 1006 if none) and the Close frames it sent
    and received."""
    proto = ws.protocol
    sent, rcvd = proto.close_sent, proto.close_rcvd
    return {
        "code": ws.close_code,
        "reason": ws.close_reason,
        "sent_code": sent.code if sent else None,
        "sent_reason": sent.reason if sent else None,
        "rcvd_code": rcvd.code if rcvd else None,
        "rcvd_reason": rcvd.reason if rcvd else None,
    }


def watch_pings(ws):
    """Records the payload of every Ping the peer sends, in a queue.

    websockets answers pings itself and does not surface them, so this wraps
    the connection's event hook (after the handshake, when only frames pass
    through it).
    """
    queue = asyncio.Queue()
    original = ws.process_event

    def process_event(event):
        if getattr(event, "opcode", None) is not None and event.opcode.name == "PING":
            queue.put_nowait(bytes(event.data))
        return original(event)

    ws.process_event = process_event
    return queue


def chunked(data, sizes):
    """`data` cut into pieces of the given sizes (the rest as the last)."""
    out, at = [], 0
    for n in sizes:
        out.append(data[at : at + n])
        at += n
    out.append(data[at:])
    return out


def every(data, n):
    return [data[i : i + n] for i in range(0, len(data), n)]
