#!/usr/bin/env python3
"""Compares wslite's DEFLATE encoder with C zlib (through Python's zlib).

Usage: python3 benches/zlib_compare.py [DIR]

Runs `WSLITE_DEFLATE_DUMP=DIR cargo bench --bench deflate` (DIR defaults to
a temporary directory), which builds the bench in release mode and, instead
of running criterion, writes to DIR:

  * NAME.raw: each corpus of benches/common/corpus.rs (json, chat, english,
    random), and chat_messages.raw (the chat lines, one per line, sent as
    separate messages);
  * NAME-L<level>-W<wbits>.deflate: our raw DEFLATE output for the corpus as
    one message ended by a sync flush, or for chat_messages every line as its
    own message, each sync-flushed, with the context kept (RFC 7692's
    default);
  * ours.tsv: our sizes and speeds (MB/s of input, best of repeated runs over
    at least 0.3 s, timed by the bench itself).

The script then compresses the same bytes with zlib at the same level and
window (memLevel 8, raw deflate: wbits -W), times it the same way, checks
that zlib's inflater decodes our output to the original bytes (an
independent inflater), and prints one table: size ratio ours/zlib (lower is
better) and speed ratio ours/zlib (higher is better). Exits non-zero when a
decode check fails.

Set WSLITE_DEFLATE_LEVELS=6 (comma-separated) to limit the levels.
"""

import os
import subprocess
import sys
import tempfile
import time
import zlib


def speed(nbytes, fn, minimum=0.3):
    """MB/s of `nbytes` per call of `fn`, best of the runs in `minimum` s."""
    started = time.perf_counter()
    best = float("inf")
    while time.perf_counter() - started < minimum:
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return nbytes / best / 1e6


def zlib_message(data, level, wbits):
    c = zlib.compressobj(level, zlib.DEFLATED, -wbits, 8)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def zlib_messages(lines, level, wbits):
    c = zlib.compressobj(level, zlib.DEFLATED, -wbits, 8)
    out = []
    for line in lines:
        out.append(c.compress(line))
        out.append(c.flush(zlib.Z_SYNC_FLUSH))
    return b"".join(out)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="wslite-deflate-")
    env = dict(os.environ, WSLITE_DEFLATE_DUMP=out_dir)
    subprocess.run(["cargo", "bench", "--bench", "deflate"], cwd=root, env=env, check=True)

    rows = []
    with open(os.path.join(out_dir, "ours.tsv")) as f:
        next(f)
        for line in f:
            name, level, wbits, nin, nout, mbps = line.rstrip("\n").split("\t")
            rows.append((name, int(level), int(wbits), int(nin), int(nout), float(mbps)))

    failures = 0
    print()
    print(f"{'corpus':<14} {'lvl':>3} {'wbits':>5} {'input':>8} {'ours':>8} {'zlib':>8} "
          f"{'size ours/zlib':>14} {'MB/s ours':>9} {'MB/s zlib':>9} {'speed ours/zlib':>15}  decode")
    for name, level, wbits, nin, nout, mbps in rows:
        raw = open(os.path.join(out_dir, f"{name}.raw"), "rb").read()
        ours = open(os.path.join(out_dir, f"{name}-L{level}-W{wbits}.deflate"), "rb").read()
        assert len(ours) == nout
        if name == "chat_messages":
            lines = raw.split(b"\n")[:-1]
            original = b"".join(lines)
            theirs = zlib_messages(lines, level, wbits)
            zmbps = speed(nin, lambda: zlib_messages(lines, level, wbits))
        else:
            original = raw
            theirs = zlib_message(raw, level, wbits)
            zmbps = speed(nin, lambda: zlib_message(raw, level, wbits))
        # An independent inflater: zlib's, with the same window as ours.
        try:
            d = zlib.decompressobj(-max(wbits, 9))
            decoded = d.decompress(ours)
            ok = decoded == original and ours.endswith(b"\x00\x00\xff\xff")
        except zlib.error as e:
            ok = False
            print(f"zlib error: {e}")
        failures += not ok
        print(f"{name:<14} {level:>3} {wbits:>5} {nin:>8} {nout:>8} {len(theirs):>8} "
              f"{nout / len(theirs):>14.3f} {mbps:>9.1f} {zmbps:>9.1f} {mbps / zmbps:>15.2f}  "
              f"{'ok' if ok else 'FAILED'}")
    if failures:
        print(f"{failures} outputs did not decode to the original")
        sys.exit(1)


if __name__ == "__main__":
    main()
