//! Benchmarks of the DEFLATE encoder (`wslite::deflate::deflate`) on the
//! corpus of `common/corpus.rs` (JSON responses, chat lines, English text,
//! random bytes):
//!
//! * whole corpora at levels 1, 6 and 9 with a 32 KiB window, and level 6
//!   with the 4 KiB window of the std default;
//! * chat messages of 50–200 bytes compressed one by one, each ended by a
//!   sync flush, with the context kept from message to message (RFC 7692's
//!   default).
//!
//! Criterion reports MB/s of input. Kept short (10 samples, about a second
//! each) so the whole run stays under two minutes.
//!
//! With `WSLITE_DEFLATE_DUMP=DIR` set, the bench does not run criterion:
//! it writes the corpus, its own compressed output and its own timings to
//! DIR for `benches/zlib_compare.py`, which compares them with Python's
//! zlib in the same run (see the script's header).

use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use wslite::deflate::deflate::{Deflater, Flush, HeapStorage, Level};

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

/// The chat corpus as messages, compressed one by one with context kept.
fn compress_messages(d: &mut Deflater<HeapStorage>, lines: &[Vec<u8>], out: &mut Vec<u8>) {
    out.clear();
    for line in lines {
        compress_message(d, line, out);
    }
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

criterion_group!(benches, whole_corpora);

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

/// Writes the corpus, our output and our speeds for zlib_compare.py.
fn dump(dir: &str) {
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir).expect("create the dump directory");
    let mut tsv = std::fs::File::create(dir.join("ours.tsv")).expect("ours.tsv");
    writeln!(tsv, "corpus\tlevel\twbits\tin_bytes\tout_bytes\tmbps").unwrap();
    let levels: Vec<u8> = std::env::var("WSLITE_DEFLATE_LEVELS")
        .map(|s| s.split(',').filter_map(|l| l.parse().ok()).collect())
        .unwrap_or_else(|_| vec![1, 6, 9]);
    let mut out = Vec::new();
    for (name, data) in corpus::all() {
        std::fs::write(dir.join(format!("{name}.raw")), &data).unwrap();
        for &level in &levels {
            for bits in [15u8, 12, 9] {
                let mut d = deflater(level, bits);
                out.clear();
                compress_message(&mut d, &data, &mut out);
                std::fs::write(dir.join(format!("{name}-L{level}-W{bits}.deflate")), &out).unwrap();
                let mbps = speed(data.len(), Duration::from_millis(300), || {
                    let mut d = deflater(level, bits);
                    let mut o = Vec::new();
                    compress_message(&mut d, &data, &mut o);
                    black_box(o.len());
                });
                writeln!(
                    tsv,
                    "{name}\t{level}\t{bits}\t{}\t{}\t{mbps:.2}",
                    data.len(),
                    out.len()
                )
                .unwrap();
            }
        }
    }
    // Chat messages one by one, context kept: the lines, one per line.
    let lines = corpus::chat_lines(2500);
    let mut joined = Vec::new();
    for line in &lines {
        joined.extend_from_slice(line);
        joined.push(b'\n');
    }
    std::fs::write(dir.join("chat_messages.raw"), &joined).unwrap();
    let total: usize = lines.iter().map(Vec::len).sum();
    for &level in &levels {
        for bits in [15u8, 12, 9] {
            let mut d = deflater(level, bits);
            compress_messages(&mut d, &lines, &mut out);
            let name = format!("chat_messages-L{level}-W{bits}.deflate");
            std::fs::write(dir.join(name), &out).unwrap();
            let mut o = Vec::new();
            let mbps = speed(total, Duration::from_millis(300), || {
                let mut d = deflater(level, bits);
                compress_messages(&mut d, &lines, &mut o);
                black_box(o.len());
            });
            writeln!(
                tsv,
                "chat_messages\t{level}\t{bits}\t{total}\t{}\t{mbps:.2}",
                out.len()
            )
            .unwrap();
        }
    }
}

fn main() {
    if let Ok(dir) = std::env::var("WSLITE_DEFLATE_DUMP") {
        dump(&dir);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
