"""A python-websockets client, the peer of wslite's server in
tests/interop_python.rs.

Usage: peer_client.py URL SCENARIO [DEFLATE]

Runs one scenario against the server at URL and prints its observations as
JSON lines (common.emit), ending with {"event": "closed", ...} (the close
codes and reasons seen, common.close_info). Exits 0 when the scenario ran to
its end, 1 with {"event": "error", ...} when something unexpected happened.
The wslite server in the test runs the matching script (see
`scripted_connection` there):

  echo              send every size of common.SIZES as text and binary, check
                    each echo
  echo-compressed   the same up to 1 MiB
  fragments         send fragmented messages (text cut inside characters,
                    1 MiB binary in 64 KiB frames, a ping between fragments);
                    the server echoes each in fragments: count them
  ping              ping the server and wait for the pong; ask the server to
                    ping ("ping me") and report the ping
  subprotocol       offer chat.v1 and chat.v2, report the one agreed
  close-by-python   close with code 4001 and a reason
  close-by-wslite   ask the server to close ("close me")
  violate-opcode    write a masked frame with the reserved opcode 0x3
  violate-rsv       write a masked frame with RSV1 set
  await-opcode      ask the server to write a reserved-opcode frame
  await-rsv         ask the server to write a frame with RSV1 set
  deflate           send every message of common.DEFLATE_MESSAGES and check
                    each echo, reporting per message whether it went and
                    came back compressed (RSV1) and its bytes on the wire;
                    then the agreed parameters
  too-big           send 4 MiB of text (a few KiB compressed) and wait for
                    the server to close

Compression: websockets' default (compression="deflate": permessage-deflate
offered with client_max_window_bits) unless DEFLATE is given: "off" offers
nothing, a JSON object offers a ClientPerMessageDeflateFactory with those
arguments (e.g. {"server_max_window_bits": 9}). The violation scenarios
always run without compression: with permessage-deflate agreed, RSV1 on a
data frame is allowed.
"""

import asyncio
import sys

import websockets
import json

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from common import (
    DEFLATE_MESSAGES,
    MAX_SIZE,
    DeflateWatch,
    deflate_extension,
    deflate_factory_args,
    extension_params,
    MID_PING_PAYLOAD,
    MiB,
    PING_PAYLOAD_PY,
    PY_CLOSE_REASON,
    SIZES,
    chunked,
    close_info,
    emit,
    every,
    kind_of,
    payload,
    raw_bytes,
    watch_pings,
)

WAIT = 10  # seconds, for every wait on the peer
# A frame's first two bytes, masked (client to server), with an all-zero
# masking key and no payload.
MASKED_EMPTY = b"\x80\x00\x00\x00\x00"


def echo_sizes(sizes):
    async def scenario(ws):
        await echo(ws, sizes)

    return scenario


async def echo(ws, sizes):
    for kind in ("text", "binary"):
        for size in sizes:
            data = payload(kind, size)
            await ws.send(data, text=kind == "text")
            got = await asyncio.wait_for(ws.recv(), WAIT)
            got_data = raw_bytes(got)
            emit(
                event="echo",
                kind=kind,
                size=size,
                got_kind=kind_of(got),
                got_size=len(got_data),
                intact=got_data == data,
            )
    await ws.close()


async def receive_fragments(ws):
    frames = []
    async for fragment in ws.recv_streaming():
        frames.append(fragment)
    kind = kind_of(frames[0])
    data = raw_bytes("".join(frames) if kind == "text" else b"".join(frames))
    emit(
        event="echo",
        kind=kind,
        size=len(data),
        frames=len(frames),
        intact=data == payload(kind, len(data)),
    )


async def fragments(ws):
    # Text as bytes in 7-byte frames: most boundaries fall inside a character.
    await ws.send(every(payload("text", 1000), 7), text=True)
    await asyncio.wait_for(receive_fragments(ws), WAIT)
    # 1 MiB of binary in 64 KiB frames.
    await ws.send(every(payload("binary", MiB), 64 * 1024))
    await asyncio.wait_for(receive_fragments(ws), WAIT)

    # A ping between two fragments of one message (RFC 6455 §5.4).
    async def with_ping():
        first, second = chunked(payload("binary", 300), [100])
        yield first
        await ws.ping(MID_PING_PAYLOAD)
        yield second

    await ws.send(with_ping())
    await asyncio.wait_for(receive_fragments(ws), WAIT)
    await ws.close()


async def ping(ws):
    pings = watch_pings(ws)
    pong = await ws.ping(PING_PAYLOAD_PY)
    await asyncio.wait_for(pong, WAIT)
    # The future resolves only for a pong carrying this very payload.
    emit(event="pong", payload=PING_PAYLOAD_PY.hex())
    await ws.send("ping me")
    data = await asyncio.wait_for(pings.get(), WAIT)
    emit(event="ping", payload=data.hex())
    await ws.close()


async def subprotocol(ws):
    emit(event="subprotocol", subprotocol=ws.subprotocol)
    await ws.close()


async def close_by_python(ws):
    await ws.close(4001, PY_CLOSE_REASON)


async def close_by_wslite(ws):
    await ws.send("close me")
    try:
        got = await asyncio.wait_for(ws.recv(), WAIT)
        emit(event="unexpected message", size=len(raw_bytes(got)))
    except ConnectionClosed:
        pass


def violate(first_byte):
    async def scenario(ws):
        # Straight onto the TCP stream, past websockets' own frame encoder.
        ws.transport.write(bytes([first_byte]) + MASKED_EMPTY)
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass

    return scenario


def await_violation(request):
    async def scenario(ws):
        await ws.send(request)
        try:
            got = await asyncio.wait_for(ws.recv(), WAIT)
            emit(event="unexpected message", size=len(raw_bytes(got)))
        except ConnectionClosed:
            pass

    return scenario


async def deflate(ws):
    watch = DeflateWatch(ws)
    for kind, size in DEFLATE_MESSAGES:
        data = payload(kind, size)
        text = kind in ("text", "json")
        await ws.send(data.decode("utf-8") if text else data)
        got = await asyncio.wait_for(ws.recv(), WAIT)
        got_data = raw_bytes(got)
        sent, received = watch.take_sent(), watch.take_received()
        emit(
            event="echo",
            kind=kind,
            size=size,
            got_size=len(got_data),
            intact=got_data == data and isinstance(got, str) == text,
            # [RSV1, bytes on the wire, bytes inflated] of the message we
            # sent and of the echo.
            sent=sent,
            received=received,
        )
    emit(event="deflate", params=extension_params(watch.extension))
    await ws.close()


async def too_big(ws):
    # 4 MiB of text, about 10 KiB compressed: a server whose limit is on the
    # inflated size must refuse it (1009), whatever its size on the wire.
    watch = DeflateWatch(ws)
    await ws.send(payload("text", 4 * MiB).decode("utf-8"))
    emit(event="sent", sent=watch.take_sent())
    try:
        got = await asyncio.wait_for(ws.recv(), WAIT)
        emit(event="unexpected message", size=len(raw_bytes(got)))
    except ConnectionClosed:
        pass


SCENARIOS = {
    "echo": echo_sizes(SIZES),
    # Up to 1 MiB: compressing 16 MiB takes seconds in a debug build.
    "echo-compressed": echo_sizes([s for s in SIZES if s <= MiB]),
    "fragments": fragments,
    "ping": ping,
    "subprotocol": subprotocol,
    "close-by-python": close_by_python,
    "close-by-wslite": close_by_wslite,
    # FIN, reserved opcode 0x3.
    "violate-opcode": violate(0x83),
    # FIN, RSV1, text.
    "violate-rsv": violate(0xC1),
    "await-opcode": await_violation("violate opcode"),
    "await-rsv": await_violation("violate rsv"),
    "deflate": deflate,
    "too-big": too_big,
}


def compression_args(name, spec):
    """The `connect` arguments that choose what permessage-deflate offer
    websockets makes (see the module documentation)."""
    if name.startswith(("violate", "await")) or spec == "off":
        return {"compression": None}
    if spec is None:
        return {}
    factory = ClientPerMessageDeflateFactory(**deflate_factory_args(json.loads(spec)))
    return {"compression": None, "extensions": [factory]}


async def run(url, name, spec):
    scenario = SCENARIOS[name]
    protocols = ["chat.v1", "chat.v2"] if name == "subprotocol" else None
    ws = await connect(
        url,
        subprotocols=protocols,
        max_size=MAX_SIZE,
        ping_interval=None,
        open_timeout=WAIT,
        close_timeout=WAIT,
        **compression_args(name, spec),
    )
    emit(
        event="open",
        version=websockets.__version__,
        subprotocol=ws.subprotocol,
        # What wslite answered to websockets' permessage-deflate offer.
        offered=ws.request.headers.get("Sec-WebSocket-Extensions"),
        extensions=ws.response.headers.get("Sec-WebSocket-Extensions"),
        deflate=extension_params(deflate_extension(ws)),
    )
    await scenario(ws)
    await asyncio.wait_for(ws.wait_closed(), WAIT)
    emit(event="closed", **close_info(ws))


async def main(url, name, spec):
    # Every wait inside is bounded too; this bounds the whole.
    await asyncio.wait_for(run(url, name, spec), 4 * WAIT)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in SCENARIOS:
        sys.exit(f"usage: {sys.argv[0]} URL {{{'|'.join(SCENARIOS)}}} [off|JSON]")
    spec = sys.argv[3] if len(sys.argv) == 4 else None
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2], spec))
    except Exception as e:
        emit(event="error", error=f"{type(e).__name__}: {e}")
        sys.exit(1)
