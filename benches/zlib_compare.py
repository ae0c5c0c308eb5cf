#!/usr/bin/env python3
"""Compares wslite's DEFLATE encoder and decoder with C zlib (through Python's zlib).

Usage: python3 benches/zlib_compare.py [DIR]      (about 2 minutes, build included)

Builds the bench (`cargo bench --manifest-path benches/Cargo.toml --bench
deflate --no-run`, release mode) and
runs it with WSLITE_DEFLATE_DUMP=DIR (DIR defaults to a temporary
directory); instead of running criterion, it writes to DIR:

  * NAME.raw: each corpus of benches/common/corpus.rs (json, chat, english,
    random), and chat_messages.raw (the chat lines, one per line, sent as
    separate messages);
  * NAME-L<level>-W<wbits>.deflate: our raw DEFLATE output for the corpus as
    one message ended by a sync flush, or for chat_messages every line as its
    own message, each sync-flushed, with the context kept (RFC 7692's
    default), checked to inflate back with our own inflater;
  * NAME-L<level>-W<wbits>.lens: each message's compressed length, one a
    line;
  * ours.tsv: our sizes.

Then, row by row, it alternates three times between our timings (the bench
again, with WSLITE_DEFLATE_TIME=corpus,level,wbits,ms: deflate, then our
inflater on our own stream, a fresh 2^W-byte window per run) and zlib's
(compressobj at the same level and window, memLevel 8, raw deflate: wbits
-W; then `zlib.decompressobj(-W)`, a fresh one per run, on exactly the
stream our inflater decoded, messages one by one for chat_messages), and
keeps each side's best run. Speeds are MB/s of uncompressed bytes in both
directions. This machine's speed drifts by tens of percent from one second
to the next (shared, 2 cores), so timings taken a minute apart do not
compare; a second apart they do. It checks that zlib's inflater decodes
our output to the original bytes (an independent inflater), and prints one
table:

  size ours/zlib      our compressed size / zlib's (lower is better)
  deflate ours/zlib   our compression speed / zlib's (higher is better)
  inflate ours/zlib   our decompression speed / zlib's (higher is better)

and, below it, the goals at level 6 (windows 15 and 12, every corpus but
random, which both store): size <= 1.05x zlib, deflate speed >= 0.5x,
inflate speed >= 0.7x, each with the worst row. Python's call overhead is
in zlib's times (one call per message for chat_messages, well under a
microsecond against tens of microseconds of work per message; nothing on
the whole corpora). Exits non-zero when a decode check fails (not when a
goal is missed).

Set WSLITE_DEFLATE_LEVELS=6 (comma-separated) to limit the levels.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import zlib


ROUNDS = 3
MINIMUM = 0.12


def speed(nbytes, fn, minimum=MINIMUM):
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


def zlib_inflate(stream, wbits):
    return zlib.decompressobj(-wbits).decompress(stream)


def zlib_inflate_messages(chunks, wbits):
    d = zlib.decompressobj(-wbits)
    return [d.decompress(c) for c in chunks]


def bench_binary(root):
    """The deflate bench's executable, built in release mode."""
    out = subprocess.run(
        ["cargo", "bench", "--manifest-path", os.path.join(root, "benches", "Cargo.toml"),
         "--bench", "deflate", "--no-run", "--message-format=json"],
        cwd=root, check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
                and msg["target"]["name"] == "deflate":
            return msg["executable"]
    sys.exit("no executable for the deflate bench")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="wslite-deflate-")
    binary = bench_binary(root)
    env = dict(os.environ, WSLITE_DEFLATE_DUMP=out_dir)
    env.pop("WSLITE_DEFLATE_TIME", None)
    subprocess.run([binary], cwd=root, env=env, check=True)

    def ours_speeds(name, level, wbits):
        e = dict(env, WSLITE_DEFLATE_TIME=f"{name},{level},{wbits},{int(MINIMUM * 1000)}")
        out = subprocess.run([binary], cwd=root, env=e, check=True, stdout=subprocess.PIPE,
                             text=True).stdout.split()
        return float(out[0]), float(out[1])

    rows = []
    with open(os.path.join(out_dir, "ours.tsv")) as f:
        next(f)
        for line in f:
            name, level, wbits, nin, nout = line.rstrip("\n").split("\t")
            rows.append((name, int(level), int(wbits), int(nin), int(nout)))

    failures = 0
    results = []
    print()
    print(f"{'':<30} {'compressed bytes':^32} {'deflate MB/s':^27} {'inflate MB/s':^27}")
    print(f"{'corpus':<14} {'lvl':>3} {'wbits':>5} {'input':>7} {'ours':>8} {'zlib':>8} "
          f"{'ours/zlib':>10}   {'ours':>7} {'zlib':>7} {'ours/zlib':>10}   "
          f"{'ours':>7} {'zlib':>7} {'ours/zlib':>10}  decode")
    for name, level, wbits, nin, nout in rows:
        raw = open(os.path.join(out_dir, f"{name}.raw"), "rb").read()
        stem = os.path.join(out_dir, f"{name}-L{level}-W{wbits}")
        ours = open(stem + ".deflate", "rb").read()
        assert len(ours) == nout
        if name == "chat_messages":
            lines = raw.split(b"\n")[:-1]
            original = b"".join(lines)
            theirs = zlib_messages(lines, level, wbits)
            lens = [int(x) for x in open(stem + ".lens").read().split()]
            chunks, at = [], 0
            for n in lens:
                chunks.append(ours[at:at + n])
                at += n
            assert at == len(ours)

            def zlib_deflate_run():
                zlib_messages(lines, level, wbits)

            def zlib_inflate_run():
                zlib_inflate_messages(chunks, wbits)
        else:
            original = raw
            theirs = zlib_message(raw, level, wbits)

            def zlib_deflate_run():
                zlib_message(raw, level, wbits)

            def zlib_inflate_run():
                zlib_inflate(ours, wbits)
        # Alternate: ours, zlib, ours, zlib, ... and keep each side's best.
        mbps = imbps = zmbps = zimbps = 0.0
        for _ in range(ROUNDS):
            d, i = ours_speeds(name, level, wbits)
            mbps, imbps = max(mbps, d), max(imbps, i)
            zmbps = max(zmbps, speed(nin, zlib_deflate_run))
            zimbps = max(zimbps, speed(nin, zlib_inflate_run))
        # An independent inflater: zlib's, with the same window as ours.
        try:
            d = zlib.decompressobj(-max(wbits, 9))
            decoded = d.decompress(ours)
            ok = decoded == original and ours.endswith(b"\x00\x00\xff\xff")
        except zlib.error as e:
            ok = False
            print(f"zlib error: {e}")
        failures += not ok
        size_ratio, speed_ratio, inflate_ratio = nout / len(theirs), mbps / zmbps, imbps / zimbps
        results.append((name, level, wbits, size_ratio, speed_ratio, inflate_ratio))
        print(f"{name:<14} {level:>3} {wbits:>5} {nin:>7} {nout:>8} {len(theirs):>8} "
              f"{size_ratio:>10.3f}   {mbps:>7.1f} {zmbps:>7.1f} {speed_ratio:>10.2f}   "
              f"{imbps:>7.1f} {zimbps:>7.1f} {inflate_ratio:>10.2f}  {'ok' if ok else 'FAILED'}")

    # The goals, at level 6 with windows of 15 and 12 bits.
    goal_rows = [r for r in results if r[1] == 6 and r[2] in (15, 12) and r[0] != "random"]
    if goal_rows:
        print()
        print("goals at level 6, windows 15 and 12 (random left out: both store it):")
        for label, index, goal, worse in (
            ("size ours/zlib    <= 1.05", 3, 1.05, max),
            ("deflate ours/zlib >= 0.50", 4, 0.50, min),
            ("inflate ours/zlib >= 0.70", 5, 0.70, min),
        ):
            row = worse(goal_rows, key=lambda r: r[index])
            met = row[index] <= goal if worse is max else row[index] >= goal
            print(f"  {label}: worst {row[index]:.3f} ({row[0]} w{row[2]})  "
                  f"{'met' if met else 'MISSED'}")
        random_rows = [r for r in results if r[1] == 6 and r[2] in (15, 12) and r[0] == "random"]
        for r in random_rows:
            print(f"  random w{r[2]}: size {r[3]:.3f}, deflate {r[4]:.2f}, inflate {r[5]:.2f}")
    if failures:
        print(f"{failures} outputs did not decode to the original")
        sys.exit(1)


if __name__ == "__main__":
    main()
