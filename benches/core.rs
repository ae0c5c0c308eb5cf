//! Benchmarks of the protocol core's hot paths, each next to a baseline
//! measured in the same run so the ratio can be read directly:
//!
//! * masking 64 KiB (`frame::apply_mask`) vs a plain `copy_from_slice` of
//!   64 KiB and vs the byte-wise textbook loop;
//! * UTF-8 validation of 64 KiB (`Utf8Validator::feed`) vs
//!   `core::str::from_utf8`, for ASCII and for mixed multibyte text;
//! * receiving 1,000 small masked frames through `Connection::receive`
//!   (server role);
//! * the handshake's accept key: SHA-1 and base64.
//!
//! Kept short (small samples, ~2 s per benchmark) so `cargo bench` finishes
//! in well under two minutes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use wslite::base64;
use wslite::frame::{apply_mask, FrameHeader, OpCode, MAX_HEADER_LEN};
use wslite::protocol::{Connection, Event, Limits, Role};
use wslite::sha1;
use wslite::utf8::Utf8Validator;

const SIZE: usize = 64 * 1024;
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn masking(c: &mut Criterion) {
    let src: Vec<u8> = (0..SIZE).map(|i| (i * 31 + 7) as u8).collect();
    let mut group = c.benchmark_group("mask_64KiB");
    group.throughput(Throughput::Bytes(SIZE as u64));

    let mut data = src.clone();
    group.bench_function("apply_mask", |b| {
        b.iter(|| apply_mask(black_box(&mut data), black_box(KEY), 0))
    });

    let mut dst = vec![0u8; SIZE];
    group.bench_function("memcpy_baseline", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        })
    });

    let mut data = src.clone();
    group.bench_function("naive_bytewise", |b| {
        b.iter(|| {
            let data = black_box(&mut data);
            let key = black_box(KEY);
            for (i, byte) in data.iter_mut().enumerate() {
                *byte ^= key[i % 4];
            }
        })
    });
    group.finish();
}

/// 64 KiB of text mixing 1-, 2-, 3- and 4-byte characters, cut at a
/// character boundary.
fn mixed_text() -> Vec<u8> {
    let sample = "ascii, Ελληνικά κόσμε, кириллица, 中文字符, 日本語, emoji 😀🎉, \u{10FFFF} ";
    let mut text = String::with_capacity(SIZE + 64);
    while text.len() < SIZE {
        text.push_str(sample);
    }
    let mut end = SIZE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.into_bytes()
}

fn utf8(c: &mut Criterion) {
    let ascii: Vec<u8> = (0..SIZE).map(|i| b' ' + (i % 95) as u8).collect();
    let mixed = mixed_text();
    for (name, text) in [("ascii", ascii), ("mixed", mixed)] {
        let mut group = c.benchmark_group(format!("utf8_64KiB_{name}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("Utf8Validator_feed", |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(&text)).unwrap();
                v.finish().unwrap();
            })
        });
        // The same bytes fed as 1 KiB network reads, which cut characters.
        group.bench_function("Utf8Validator_feed_1KiB_pieces", |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                for piece in black_box(&text).chunks(1024) {
                    v.feed(piece).unwrap();
                }
                v.finish().unwrap();
            })
        });
        group.bench_function("str_from_utf8_baseline", |b| {
            b.iter(|| core::str::from_utf8(black_box(&text)).unwrap().len())
        });
        group.finish();
    }
}

/// 1,000 masked binary frames of 16 bytes each, as a client sends them.
fn small_frames_stream() -> (Vec<u8>, usize) {
    const FRAMES: usize = 1000;
    let mut stream = Vec::new();
    let mut payload_total = 0;
    for i in 0..FRAMES {
        let key = (i as u32).wrapping_mul(0x9E37_79B9).to_be_bytes();
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary,
            mask: Some(key),
            payload_len: 16,
        };
        let mut h = [0u8; MAX_HEADER_LEN];
        let n = header.emit(&mut h).unwrap();
        stream.extend_from_slice(&h[..n]);
        let mut payload: Vec<u8> = (0..16).map(|j| (i + j) as u8).collect();
        apply_mask(&mut payload, key, 0);
        stream.extend_from_slice(&payload);
        payload_total += 16;
    }
    (stream, payload_total)
}

fn receive(c: &mut Criterion) {
    let (stream, payload_total) = small_frames_stream();
    let mut group = c.benchmark_group("receive_1000x16B_masked");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("Connection_receive_server", |b| {
        b.iter_batched(
            || stream.clone(),
            |mut buf| {
                let mut conn = Connection::new(Role::Server, Limits::default());
                let mut pos = 0;
                let mut got = 0;
                loop {
                    let r = conn.receive(&mut buf[pos..]).unwrap();
                    if let Some(Event::Data { bytes, .. }) = r.event {
                        got += bytes.len();
                    } else if r.consumed == 0 {
                        break;
                    }
                    pos += r.consumed;
                }
                assert_eq!(got, payload_total);
                got
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn handshake(c: &mut Criterion) {
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let key = b"dGhlIHNhbXBsZSBub25jZQ==";
    let mut input = Vec::new();
    input.extend_from_slice(key);
    input.extend_from_slice(GUID);
    // RFC 6455 §1.3's example answer, to be sure the benchmark does the
    // real work.
    let mut out = [0u8; 28];
    base64::encode(&sha1::digest(&input), &mut out).unwrap();
    assert_eq!(&out, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    let mut group = c.benchmark_group("handshake");
    group.bench_function("accept_key_sha1_base64", |b| {
        b.iter(|| {
            let digest = sha1::digest(black_box(&input));
            let mut out = [0u8; 28];
            base64::encode(&digest, &mut out).unwrap();
            out
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = masking, utf8, receive, handshake
}
criterion_main!(benches);
