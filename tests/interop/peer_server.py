"""A python-websockets server, the peer of wslite's client in
tests/interop_python.rs.

Usage: peer_server.py [--lifetime SECONDS] [--deflate off|JSON]

Listens on 127.0.0.1 on a free port and prints {"event": "listening",
"port": N, "version": V} first. What it does with a connection depends on the
request path:

  /echo             echo every message whole; report each as it arrived
                    (kind, size, number of frames, whether it is intact:
                    made by one of common's generators), and with
                    permessage-deflate, [RSV1, bytes on the wire, bytes
                    inflated] of the message ("received") and of its echo
                    ("sent")
  /echo-count       echo every message whole, one at a time, without a line
                    per message; at the end report {"event": "echoed",
                    "messages": N, "bytes": B} (for long runs of messages
                    whose content the client checks itself)
  /fragments        send fragmented messages (text cut inside characters,
                    1 MiB binary in 64 KiB frames, a ping between fragments)
  /ping             ping the client, wait for its pong, then report the
                    pings the client sends
  /close            close at once with code 4004 and a reason
  /too-big          send 4 MiB of text (a few KiB compressed), then read
                    until the end
  /violate-opcode   write a frame with the reserved opcode 0x3
  /violate-rsv      write a frame with RSV1 set (a violation only when the
                    client did not agree permessage-deflate)

For every connection it reports {"event": "open", ...} and, at the end,
{"event": "closed", ...} with the close codes and reasons seen (common.close_info).
The server offers the subprotocols chat.v2 and chat.v1 and prefers chat.v2; a
client that offers neither gets none.

Compression: websockets' default (compression="deflate": permessage-deflate
accepted with 12-bit windows) unless --deflate is given: "off" declines it,
a JSON object accepts it with a ServerPerMessageDeflateFactory of those
arguments (e.g. {"server_max_window_bits": 9, "client_max_window_bits": 9}).
The open line carries the header answered ("extensions") and what
websockets agreed ("deflate"). websockets' close_timeout is off: a
client that does not close TCP after the closing handshake is reported
("error" in the closed line, after 20 s) instead of being cut off. It exits
when stdin closes or after --lifetime seconds, whichever comes first.
"""

import argparse
import asyncio
import json
import sys
import threading

import websockets
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from common import (
    MAX_SIZE,
    DeflateWatch,
    deflate_extension,
    deflate_factory_args,
    extension_params,
    is_generated,
    MID_PING_PAYLOAD,
    MiB,
    PING_PAYLOAD_PY,
    PY_CLOSE_REASON,
    chunked,
    close_info,
    emit,
    every,
    kind_of,
    payload,
    raw_bytes,
    watch_pings,
)

SERVER_PROTOCOLS = ["chat.v2", "chat.v1"]
WAIT = 10  # seconds, for every wait on the peer


def select_subprotocol(connection, offered):
    """The server's preference among what the client offered; none (rather
    than websockets' default, a 400) when nothing matches."""
    for protocol in SERVER_PROTOCOLS:
        if protocol in offered:
            return protocol
    return None


async def echo(ws, pings):
    while True:
        frames = []
        try:
            async for fragment in ws.recv_streaming():
                frames.append(fragment)
        except ConnectionClosed:
            return
        kind = kind_of(frames[0])
        message = "".join(frames) if kind == "text" else b"".join(frames)
        data = raw_bytes(message)
        received = ws.deflate_watch.take_received()
        await ws.send(message)
        emit(
            event="message",
            kind=kind,
            size=len(data),
            frames=len(frames),
            intact=is_generated(message),
            received=received,
            sent=ws.deflate_watch.take_sent(),
        )


async def echo_count(ws, pings):
    # One message at a time: while the client does not read the echoes,
    # `send` waits for the socket to drain, and nothing more is read, so a
    # client that cannot read while it writes stalls here.
    messages = size = 0
    try:
        async for message in ws:
            await ws.send(message)
            messages += 1
            size += len(raw_bytes(message))
    finally:
        emit(event="echoed", messages=messages, bytes=size)


async def fragments(ws, pings):
    # Text as bytes in 7-byte frames: most boundaries fall inside a character.
    text = payload("text", 1000)
    await ws.send(every(text, 7), text=True)
    # 1 MiB of binary in 64 KiB frames.
    await ws.send(every(payload("binary", MiB), 64 * 1024))

    # A ping between two fragments of one message (RFC 6455 §5.4: control
    # frames may be injected in the middle of a fragmented message).
    async def with_ping():
        first, second = chunked(payload("binary", 300), [100])
        yield first
        await ws.ping(MID_PING_PAYLOAD)
        yield second

    await ws.send(with_ping())
    emit(event="sent")
    async for _ in ws:
        pass


async def ping(ws, pings):
    pong = await ws.ping(PING_PAYLOAD_PY)
    await asyncio.wait_for(pong, WAIT)
    # The future resolves only for a pong carrying this very payload.
    emit(event="pong", payload=PING_PAYLOAD_PY.hex())
    await ws.send("pong received")
    data = await asyncio.wait_for(pings.get(), WAIT)
    emit(event="ping", payload=data.hex())
    async for _ in ws:
        pass


async def too_big(ws, pings):
    # 4 MiB of text, about 10 KiB compressed.
    await ws.send(payload("text", 4 * MiB).decode("utf-8"))
    emit(event="sent", sent=ws.deflate_watch.take_sent())
    async for _ in ws:
        pass


async def close(ws, pings):
    await ws.close(4004, PY_CLOSE_REASON)


def violate(raw):
    async def behaviour(ws, pings):
        # Straight onto the TCP stream, past websockets' own frame encoder.
        ws.transport.write(raw)
        async for _ in ws:
            pass

    return behaviour


BEHAVIOURS = {
    "/echo": echo,
    "/echo-count": echo_count,
    "/fragments": fragments,
    "/ping": ping,
    "/close": close,
    "/too-big": too_big,
    # Server to client: unmasked, FIN set, reserved opcode 0x3, empty.
    "/violate-opcode": violate(b"\x83\x00"),
    # Server to client: unmasked, FIN and RSV1 set, text, empty.
    "/violate-rsv": violate(b"\xc1\x00"),
}


async def handler(ws):
    path = ws.request.path
    pings = watch_pings(ws)
    ws.deflate_watch = DeflateWatch(ws)
    emit(
        event="open",
        path=path,
        subprotocol=ws.subprotocol,
        offered=[
            protocol.strip()
            for field in ws.request.headers.get_all("Sec-WebSocket-Protocol")
            for protocol in field.split(",")
        ],
        requested=ws.request.headers.get("Sec-WebSocket-Extensions"),
        extensions=ws.response.headers.get("Sec-WebSocket-Extensions"),
        deflate=extension_params(deflate_extension(ws)),
    )
    behaviour = BEHAVIOURS.get(path, not_found)
    stage = "behaviour"

    async def run():
        nonlocal stage
        try:
            await behaviour(ws, pings)
        except ConnectionClosed:
            pass
        # With close_timeout=None websockets waits for the client to close
        # TCP as long as it takes: a client that never does shows up here.
        stage = "waiting for the client to close TCP"
        await ws.wait_closed()

    error = None
    try:
        await asyncio.wait_for(run(), 2 * WAIT)
    except asyncio.TimeoutError:
        error = f"timed out: {stage}"
    except Exception as e:  # reported, and the test fails on it
        error = f"{stage}: {type(e).__name__}: {e}"
    if error is not None:
        ws.transport.abort()
        try:
            await asyncio.wait_for(ws.wait_closed(), 1)
        except asyncio.TimeoutError:
            pass
    emit(event="closed", path=path, error=error, **close_info(ws))


async def not_found(ws, pings):
    await ws.close(4404, "no such path")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifetime", type=float, default=120)
    parser.add_argument("--deflate", default=None)
    args = parser.parse_args()
    if args.deflate is None:
        compression = {}
    elif args.deflate == "off":
        compression = {"compression": None}
    else:
        factory_args = deflate_factory_args(json.loads(args.deflate))
        compression = {
            "compression": None,
            "extensions": [ServerPerMessageDeflateFactory(**factory_args)],
        }

    loop = asyncio.get_running_loop()
    stdin_closed = asyncio.Event()

    def watch_stdin():
        # The parent holds our stdin: its end (the test finished or died)
        # ends this server.
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stdin_closed.set)

    threading.Thread(target=watch_stdin, daemon=True).start()

    async with serve(
        handler,
        "127.0.0.1",
        0,
        select_subprotocol=select_subprotocol,
        subprotocols=SERVER_PROTOCOLS,
        max_size=MAX_SIZE,
        ping_interval=None,
        # Never abort a connection whose client does not close TCP after the
        # closing handshake: report it instead (see `handler`).
        close_timeout=None,
        **compression,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        emit(event="listening", port=port, version=websockets.__version__)
        try:
            await asyncio.wait_for(stdin_closed.wait(), args.lifetime)
        except asyncio.TimeoutError:
            emit(event="lifetime over")


if __name__ == "__main__":
    asyncio.run(main())
