//! Benchmarks of the DEFLATE encoder (`wslite::deflate::deflate`) and
//! decoder (`wslite::deflate::inflate`) on the corpus of `common/corpus.rs`
//! (JSON responses, chat lines, English text, random bytes):
//!
//! * `deflate/`: whole corpora at levels 1, 6 and 9 with a 32 KiB window,
//!   and level 6 with the 4 KiB window of the std default;
//! * `deflate/chat_messages`: chat messages of 50–200 bytes compressed one
//!   by one, each ended by a sync flush, with the context kept from message
//!   to message (RFC 7692's default);
//! * `inflate/`: the same streams (level 6, windows of 32 KiB and 4 KiB)
//!   decoded again, the chat messages one by one with the window kept.
//!
//! Criterion reports MB/s of *uncompressed* bytes in both directions, so
//! the two numbers of a corpus compare directly. Kept short (10 samples,
//! about a second each) so the whole run stays under three minutes.
//!
//! With `WSLITE_DEFLATE_DUMP=DIR` set, the bench does not run criterion:
//! it writes the corpus, its own compressed output and its own timings
//! (both directions) to DIR for `benches/zlib_compare.py`, which compares
//! them with Python's zlib in the same run (see the script's header).

use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use wslite::deflate::deflate::{Deflater, Flush, HeapStorage, Level};
use wslite::deflate::inflate::Inflater;

#[path = "common/corpus.rs"]
mod corpus;

/// Compresses `input` as one message (one sync flush at the end).
fn compress_message(d: &mut Deflater<HeapStorage>, input: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + input.len() + input.len() / 8 + 64, 0);
    let mut produced = start;
    let mut rest = input;
    loop {
        let p = d.compress(rest, &mut out[produced..], Flush::Sync);
        rest = &rest[p.consumed..];
        produced += p.produced;
        if p.flushed {
            break;
        }
        if produced == out.len() {
            out.resize(out.len() * 2, 0);
        }
    }
    out.truncate(produced);
}

fn deflater(level: u8, bits: u8) -> Deflater<HeapStorage> {
    Deflater::with_window_bits(bits, Level::new(level)).expect("window bits 8..=15")
}

/// The chat corpus as messages, compressed one by one with context kept;
/// returns each message's compressed length.
fn compress_messages(
    d: &mut Deflater<HeapStorage>,
    lines: &[Vec<u8>],
    out: &mut Vec<u8>,
) -> Vec<usize> {
    out.clear();
    let mut lengths = Vec::with_capacity(lines.len());
    for line in lines {
        let before = out.len();
        compress_message(d, line, out);
        lengths.push(out.len() - before);
    }
    lengths
}

/// A fresh inflater with a window of 2^bits bytes, as a receiver that
/// agreed on `bits` allocates it.
fn inflater(bits: u8) -> Inflater<Vec<u8>> {
    Inflater::new(vec![0; 1 << bits])
}

/// Decodes one sync-flushed message (`input`) into `out`, which must have
/// room for all of it and one byte more; returns the bytes produced.
fn inflate_message(inf: &mut Inflater<Vec<u8>>, input: &[u8], out: &mut [u8]) -> usize {
    let mut rest = input;
    let mut produced = 0;
    while !rest.is_empty() {
        let p = inf
            .inflate(rest, &mut out[produced..])
            .expect("our own output inflates");
        assert!(p.consumed + p.produced > 0, "the inflater made no progress");
        rest = &rest[p.consumed..];
        produced += p.produced;
        assert!(produced < out.len(), "the output buffer is too small");
    }
    produced
}

/// Decodes the chat messages one by one (their compressed `lengths`) with
/// the window kept, as a receiver with context takeover does.
fn inflate_messages(
    inf: &mut Inflater<Vec<u8>>,
    stream: &[u8],
    lengths: &[usize],
    out: &mut [u8],
) -> usize {
    let mut total = 0;
    let mut at = 0;
    for &len in lengths {
        total += inflate_message(inf, &stream[at..at + len], out);
        at += len;
    }
    total
}

/// Compressed bytes of one whole corpus (one message).
fn compressed(data: &[u8], level: u8, bits: u8) -> Vec<u8> {
    let mut out = Vec::new();
    compress_message(&mut deflater(level, bits), data, &mut out);
    out
}

fn whole_corpora(c: &mut Criterion) {
    let corpus = corpus::all();
    let mut group = c.benchmark_group("deflate");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_millis(1200));
    let mut out = Vec::new();
    for (name, data) in &corpus {
        group.throughput(Throughput::Bytes(data.len() as u64));
        for (level, bits) in [(1, 15), (6, 15), (9, 15), (6, 12)] {
            let id = BenchmarkId::new(format!("{name}/w{bits}"), format!("level{level}"));
            group.bench_function(id, |b| {
                b.iter(|| {
                    let mut d = deflater(level, bits);
                    out.clear();
                    compress_message(&mut d, black_box(data), &mut out);
                    black_box(out.len())
                })
            });
        }
    }
    let lines = corpus::chat_lines(2500);
    let total: usize = lines.iter().map(Vec::len).sum();
    group.throughput(Throughput::Bytes(total as u64));
    for bits in [15, 12] {
        let id = BenchmarkId::new(format!("chat_messages/w{bits}"), "level6");
        group.bench_function(id, |b| {
            b.iter(|| {
                let mut d = deflater(6, bits);
                compress_messages(&mut d, black_box(&lines), &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

fn inflate(c: &mut Criterion) {
    let corpus = corpus::all();
    let mut group = c.benchmark_group("inflate");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_millis(1200));
    for (name, data) in &corpus {
        group.throughput(Throughput::Bytes(data.len() as u64));
        let mut out = vec![0; data.len() + 1];
        for bits in [15, 12] {
            let stream = compressed(data, 6, bits);
            let id = BenchmarkId::new(format!("{name}/w{bits}"), "level6");
            group.bench_function(id, |b| {
                b.iter(|| {
                    let mut inf = inflater(bits);
                    black_box(inflate_message(&mut inf, black_box(&stream), &mut out))
                })
            });
        }
    }
    let lines = corpus::chat_lines(2500);
    let total: usize = lines.iter().map(Vec::len).sum();
    let longest = lines.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![0; longest + 1];
    group.throughput(Throughput::Bytes(total as u64));
    for bits in [15, 12] {
        let mut stream = Vec::new();
        let lengths = compress_messages(&mut deflater(6, bits), &lines, &mut stream);
        let id = BenchmarkId::new(format!("chat_messages/w{bits}"), "level6");
        group.bench_function(id, |b| {
            b.iter(|| {
                let mut inf = inflater(bits);
                black_box(inflate_messages(&mut inf, &stream, &lengths, &mut out))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, whole_corpora, inflate);

/// Runs `f` until at least `min` has passed; returns MB/s of `bytes` per
/// run (the best of the runs, as criterion's minimum would be).
fn speed(bytes: usize, min: Duration, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut best = Duration::MAX;
    while started.elapsed() < min {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
    }
    bytes as f64 / best.as_secs_f64() / 1e6
}

/// One row of the comparison: a corpus and what it is cut into (one
/// message, or the chat lines as messages), at a level and window.
struct Row {
    name: String,
    messages: Vec<Vec<u8>>,
    level: u8,
    bits: u8,
    /// The inflater's window, in bits: `bits` as a receiver allocates it,
    /// or more (`WSLITE_DEFLATE_INFLATE_BITS`, to see what the window's
    /// size costs the decoder on the same stream).
    inflate_bits: u8,
}

impl Row {
    fn total(&self) -> usize {
        self.messages.iter().map(Vec::len).sum()
    }

    /// Our compressed stream and each message's part of it.
    fn compress(&self) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let lengths = compress_messages(
            &mut deflater(self.level, self.bits),
            &self.messages,
            &mut out,
        );
        (out, lengths)
    }

    /// MB/s (of uncompressed bytes) of our deflater and of our inflater on
    /// our own stream, each the best run in `min`.
    fn speeds(&self, min: Duration) -> (f64, f64) {
        let (stream, lengths) = self.compress();
        let mut o = Vec::new();
        let deflate = speed(self.total(), min, || {
            let mut d = deflater(self.level, self.bits);
            compress_messages(&mut d, &self.messages, &mut o);
            black_box(o.len());
        });
        let longest = self.messages.iter().map(Vec::len).max().unwrap_or(0);
        let mut plain = vec![0; longest + 1];
        let inflate = speed(self.total(), min, || {
            let mut inf = inflater(self.inflate_bits);
            black_box(inflate_messages(&mut inf, &stream, &lengths, &mut plain));
        });
        (deflate, inflate)
    }
}

/// The corpus as the script reads it back: NAME.raw, the chat lines one a
/// line for chat_messages.
fn read_row(dir: &std::path::Path, name: &str, level: u8, bits: u8) -> Row {
    let raw = std::fs::read(dir.join(format!("{name}.raw"))).expect("run the dump first");
    let messages = if name == "chat_messages" {
        raw.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    } else {
        vec![raw]
    };
    Row {
        name: name.into(),
        messages,
        level,
        bits,
        inflate_bits: bits,
    }
}

/// Writes the corpus and our output (no timings: the script asks for those
/// row by row, between its own, so both see the machine at the same speed).
fn dump(dir: &str) {
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir).expect("create the dump directory");
    let mut tsv = std::fs::File::create(dir.join("ours.tsv")).expect("ours.tsv");
    writeln!(tsv, "corpus\tlevel\twbits\tin_bytes\tout_bytes").unwrap();
    let levels: Vec<u8> = std::env::var("WSLITE_DEFLATE_LEVELS")
        .map(|s| s.split(',').filter_map(|l| l.parse().ok()).collect())
        .unwrap_or_else(|_| vec![1, 6, 9]);
    let mut corpora = corpus::all();
    // Chat messages one by one, context kept: the lines, one per line.
    corpora.push(("chat_messages", corpus::chat(2500)));
    for (name, data) in corpora {
        std::fs::write(dir.join(format!("{name}.raw")), &data).unwrap();
        for &level in &levels {
            for bits in [15u8, 12, 9] {
                let row = read_row(dir, name, level, bits);
                let (stream, lengths) = row.compress();
                let stem = format!("{name}-L{level}-W{bits}");
                std::fs::write(dir.join(format!("{stem}.deflate")), &stream).unwrap();
                // Each message's compressed length, one a line, so that the
                // script's inflater takes the messages one by one as ours does.
                let lens: String = lengths.iter().map(|l| format!("{l}\n")).collect();
                std::fs::write(dir.join(format!("{stem}.lens")), lens).unwrap();
                let mut inf = inflater(bits);
                let mut plain = vec![0; row.messages.iter().map(Vec::len).max().unwrap_or(0) + 1];
                let mut at = 0;
                for (message, len) in row.messages.iter().zip(&lengths) {
                    let n = inflate_message(&mut inf, &stream[at..at + len], &mut plain);
                    assert_eq!(&plain[..n], &message[..], "our own round trip");
                    at += len;
                }
                writeln!(
                    tsv,
                    "{}\t{level}\t{bits}\t{}\t{}",
                    row.name,
                    row.total(),
                    stream.len()
                )
                .unwrap();
            }
        }
    }
}

/// `WSLITE_DEFLATE_TIME=corpus,level,wbits,ms`: prints our deflate and
/// inflate MB/s for one row of the dump, each the best run in `ms`. With
/// `WSLITE_DEFLATE_INFLATE_BITS=B` the inflater gets a 2^B-byte window
/// instead of 2^wbits (a diagnosis: the same stream, another window).
fn time_row(dir: &str, spec: &str) {
    let parts: Vec<&str> = spec.split(',').collect();
    let [name, level, bits, ms] = parts[..] else {
        panic!("WSLITE_DEFLATE_TIME=corpus,level,wbits,ms");
    };
    let mut row = read_row(
        std::path::Path::new(dir),
        name,
        level.parse().expect("level"),
        bits.parse().expect("wbits"),
    );
    if let Ok(b) = std::env::var("WSLITE_DEFLATE_INFLATE_BITS") {
        row.inflate_bits = b.parse().expect("WSLITE_DEFLATE_INFLATE_BITS: 8..=15");
    }
    let (deflate, inflate) = row.speeds(Duration::from_millis(ms.parse().expect("ms")));
    println!("{deflate:.2}\t{inflate:.2}");
}

fn main() {
    if let Ok(dir) = std::env::var("WSLITE_DEFLATE_DUMP") {
        match std::env::var("WSLITE_DEFLATE_TIME") {
            Ok(spec) => time_row(&dir, &spec),
            Err(_) => dump(&dir),
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
