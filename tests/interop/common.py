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


# A JSON-like record, repeated with its number and a score: compressible the
# way real JSON is (repeated keys, varying values). ASCII, so any cut is text.
def json_record(n):
    return (
        '{"id":%d,"user":"user-%d","active":%s,"score":%d,"tags":["alpha","beta"]},'
        % (n, n, "true" if n % 3 else "false", (n * 7919) % 1000)
    ).encode("ascii")


def payload(kind, size):
    """The expected content of a `kind` message of `size` bytes, as bytes:
    "text" (UTF-8 cut inside characters), "binary" (period 251), "json"
    (text: JSON-like records, see `json_record`), "random" (binary:
    xorshift32 noise, which does not compress)."""
    if kind == "json":
        out, n = bytearray(b"["), 0
        while len(out) < size:
            out += json_record(n)
            n += 1
        return bytes(out[:size])
    if kind == "random":
        x, out = 2463534242, bytearray(size)
        for i in range(size):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            out[i] = x & 0xFF
        return bytes(out)
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


def is_generated(message):
    """Whether a message is what one of the generators makes for its type
    and size (text: "text" or "json"; binary: "binary" or "random")."""
    data = raw_bytes(message)
    kinds = ("text", "json") if isinstance(message, str) else ("binary", "random")
    return any(data == payload(k, len(data)) for k in kinds)


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


# permessage-deflate (RFC 7692)

# The messages of the compression tests, in order: under the 1 KiB
# threshold below which wslite sends uncompressed; 2 KiB of noise twice (the
# second costs a few bytes with context takeover and a window of 4 KiB or
# more, RFC 7692 §7.1.1, and as much as the first without); 10 KiB of text;
# 1 MiB of JSON-like text; 64 KiB of noise, which DEFLATE cannot shrink
# (stored blocks); 100 KiB of the period-251 binary.
DEFLATE_MESSAGES = [
    ("text", 100),
    ("random", 2 * KiB),
    ("random", 2 * KiB),
    ("text", 10 * KiB),
    ("json", MiB),
    ("random", 64 * KiB),
    ("binary", 100 * KiB),
]


def deflate_factory_args(spec):
    """The keyword arguments of a Client/ServerPerMessageDeflateFactory from
    a JSON object given on the command line (keys as the factory's)."""
    args = dict(spec)
    args.setdefault("compress_settings", {"memLevel": 5})
    return args


def deflate_extension(ws):
    """The PerMessageDeflate extension in use on `ws`, or None."""
    for extension in ws.protocol.extensions:
        if extension.name == "permessage-deflate":
            return extension
    return None


def extension_params(extension):
    """What websockets agreed, in its own terms (remote: the peer's
    compressor; local: its own)."""
    if extension is None:
        return None
    return {
        "remote_no_context_takeover": extension.remote_no_context_takeover,
        "local_no_context_takeover": extension.local_no_context_takeover,
        "remote_max_window_bits": extension.remote_max_window_bits,
        "local_max_window_bits": extension.local_max_window_bits,
    }


class DeflateWatch:
    """Counts what passes through the extension, frame by frame: for every
    data message received, whether its first frame had RSV1 and how many
    bytes were on the wire (compressed) and inflated; for every message
    sent, the same. This is the proof that compressed frames were really
    used, in each direction.

    websockets decodes frames in `decode` before anything else sees them
    (and clears RSV1 there), so the watch wraps `decode` and `encode` of the
    extension object."""

    def __init__(self, ws):
        self.received = []  # [rsv1, wire bytes, inflated bytes], per message
        self.sent = []
        self.extension = deflate_extension(ws)
        self._in_message = False
        if self.extension is None:
            return
        decode, encode = self.extension.decode, self.extension.encode

        def watched_decode(frame, **kwargs):
            out = decode(frame, **kwargs)
            self._count(self.received, frame, out)
            return out

        def watched_encode(frame):
            out = encode(frame)
            self._count(self.sent, out, frame)
            return out

        self.extension.decode = watched_decode
        self.extension.encode = watched_encode

    @staticmethod
    def _count(log, wire, plain):
        if wire.opcode.name in ("PING", "PONG", "CLOSE"):
            return
        if wire.opcode.name != "CONT":
            log.append([bool(wire.rsv1), 0, 0])
        log[-1][1] += len(wire.data)
        log[-1][2] += len(plain.data)

    def take_received(self):
        """The oldest received message's [rsv1, wire, inflated]."""
        return self.received.pop(0) if self.received else None

    def take_sent(self):
        return self.sent.pop(0) if self.sent else None
