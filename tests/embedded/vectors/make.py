#!/usr/bin/env python3
"""Makes the DEFLATE inputs of the on-target inflate tests (src/bin/inflate.rs)
with C zlib, so that the inflater is judged on data it did not make itself.
Run once by hand (`python3 make.py` in this directory); the outputs are
committed, and neither `cargo` nor `run.sh` needs Python.

  text.json        4,096 bytes of JSON-like text (seeded, so reproducible)
  text.w9l{1,6,9}  raw DEFLATE of it, windowBits -9, levels 1, 6, 9, ended
                   with a final block (Z_FINISH)
  text.w9.pmd      permessage-deflate payload (RFC 7692 §7.2.1): level 6,
                   windowBits -9, sync flush, the 00 00 ff ff tail removed,
                   as Autobahn's 12.x cases send messages
  far.w15l9        raw DEFLATE, 32 KiB window, of the first 1,024 bytes of
                   the text twice: the second copy is back-references 1,024
                   bytes back, which a 512-byte window must refuse
"""
import random
import zlib

rng = random.Random(7692)
words = ["sensor", "temperature", "humidity", "pressure", "status", "ok",
         "warn", "id", "ts", "value", "unit", "celsius", "pascal", "node",
         "gateway", "battery", "rssi", "firmware", "uptime", "seq"]
parts = []
while sum(map(len, parts)) < 4096:
    key = rng.choice(words)
    rec = '{"%s":%d,"%s":"%s","%s":%.2f,"tags":["%s","%s"]},\n' % (
        "id", rng.randrange(100000), "kind", key, rng.choice(words),
        rng.uniform(-40, 120), rng.choice(words), rng.choice(words))
    parts.append(rec)
text = "".join(parts).encode()[:4096]
open("text.json", "wb").write(text)


def raw(level, wbits, data):
    c = zlib.compressobj(level, zlib.DEFLATED, -wbits)
    return c.compress(data) + c.flush(zlib.Z_FINISH)


for level in (1, 6, 9):
    d = raw(level, 9, text)
    assert zlib.decompressobj(-9).decompress(d) == text
    open("text.w9l%d" % level, "wb").write(d)

c = zlib.compressobj(6, zlib.DEFLATED, -9)
pmd = c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH)
assert pmd.endswith(b"\x00\x00\xff\xff")
pmd = pmd[:-4]
assert zlib.decompressobj(-9).decompress(pmd + b"\x00\x00\xff\xff") == text
open("text.w9.pmd", "wb").write(pmd)

far = raw(9, 15, text[:1024] * 2)
assert zlib.decompressobj(-15).decompress(far) == text[:1024] * 2
try:
    # zlib only checks a distance against its window across calls (within
    # one call it counts that call's output too): inflate in small pieces.
    d, rest = zlib.decompressobj(-9), far
    while rest:
        d.decompress(rest, 64)
        rest = d.unconsumed_tail
    raise SystemExit("far.w15l9 should not inflate with a 512-byte window")
except zlib.error:
    pass
open("far.w15l9", "wb").write(far)
for name in ("text.json", "text.w9l1", "text.w9l6", "text.w9l9", "text.w9.pmd", "far.w15l9"):
    print(name, len(open(name, "rb").read()))
