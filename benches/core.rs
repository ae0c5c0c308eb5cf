//! Benchmarks of the protocol core's hot paths, each next to a baseline
//! measured in the same run so the ratio can be read directly:
//!
//! * masking 64 KiB (`frame::apply_mask`) vs a plain `copy_from_slice` of
//!   64 KiB and vs the byte-wise textbook loop;
//! * UTF-8 validation of 64 KiB (`Utf8Validator::feed`) vs
//!   `core::str::from_utf8`, for ASCII and for mixed multibyte text;
//! * receiving 1,000 small masked frames through `Connection::receive`
//!   (server role);
//! * the handshake's accept key: SHA-1 and base64;
//! * frame header parse and emit (`FrameHeader::parse` / `emit`) for the
//!   7-, 16- and 64-bit length forms, masked and unmasked;
//! * unmasking (`apply_mask`) at 16 B, 128 B, 1 KiB, 16 KiB, 64 KiB and
//!   1 MiB, each next to a `copy_from_slice` of the same size (at 1 MiB the
//!   copy touches 2 MiB, source and destination, the in-place XOR 1 MiB);
//! * the server's handshake: `RequestParser::parse` of the RFC 6455 §1.3
//!   request and of a browser's request with 13 header fields, then
//!   `validate_upgrade`, then `write_accept_response`;
//! * SHA-1 of 64 B (one block plus padding, the handshake's size) and 1 MiB.
//!
//! Kept short (small samples, 1-2 s per benchmark) so `cargo bench` finishes
//! in about two minutes; `benches/echo.rs` measures whole connections.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use wslite::base64;
use wslite::frame::{apply_mask, FrameHeader, OpCode, MAX_HEADER_LEN};
use wslite::handshake::request::{write_accept_response, RequestParser};
use wslite::handshake::{head::Header, Limits as HeadLimits, Status};
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

/// The 1 s measurement of the benchmarks added after the first four groups.
fn short(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
}

/// One header per length form (7-bit, 16-bit, 64-bit), masked or not.
fn frame_headers() -> Vec<(String, FrameHeader)> {
    let mut out = Vec::new();
    for (form, len) in [("7bit", 100u64), ("16bit", 1000), ("64bit", 100_000)] {
        for mask in [None, Some(KEY)] {
            let header = FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Binary,
                mask,
                payload_len: len,
            };
            let name = format!(
                "{form}_{}",
                if mask.is_some() { "masked" } else { "unmasked" }
            );
            out.push((name, header));
        }
    }
    out
}

fn frame_header(c: &mut Criterion) {
    let headers = frame_headers();
    let mut group = c.benchmark_group("frame_header_parse");
    short(&mut group);
    group.throughput(Throughput::Elements(1));
    for (name, header) in &headers {
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let n = header.emit(&mut bytes).unwrap();
        let bytes = bytes[..n].to_vec();
        assert_eq!(FrameHeader::parse(&bytes).unwrap(), Some((*header, n)));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| FrameHeader::parse(black_box(&bytes)).unwrap())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("frame_header_emit");
    short(&mut group);
    group.throughput(Throughput::Elements(1));
    for (name, header) in &headers {
        let mut out = [0u8; MAX_HEADER_LEN];
        group.bench_function(name.as_str(), |b| {
            b.iter(|| black_box(header).emit(black_box(&mut out)).unwrap())
        });
    }
    group.finish();
}

/// Unmasking in place vs a copy of the same size, from 16 B to 1 MiB. The
/// ratio of the two is what to read: how close masking gets to the speed
/// of memory at each size.
fn unmask_sizes(c: &mut Criterion) {
    for (label, size) in [
        ("16B", 16usize),
        ("128B", 128),
        ("1KiB", 1 << 10),
        ("16KiB", 16 << 10),
        ("64KiB", 64 << 10),
        ("1MiB", 1 << 20),
    ] {
        let src: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
        let mut group = c.benchmark_group(format!("unmask_{label}"));
        short(&mut group);
        if size >= 1 << 20 {
            group.sample_size(10);
        }
        group.throughput(Throughput::Bytes(size as u64));
        let mut data = src.clone();
        group.bench_function("apply_mask", |b| {
            b.iter(|| apply_mask(black_box(&mut data), black_box(KEY), 0))
        });
        let mut dst = vec![0u8; size];
        group.bench_function("memcpy_baseline", |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&src));
                black_box(&mut dst);
            })
        });
        group.finish();
    }
}

/// RFC 6455 §1.3's example request.
const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\
\r\n";

/// What a current desktop browser sends: 13 header fields, cookies and all.
const BROWSER_REQUEST: &[u8] = b"GET /chat?room=lobby HTTP/1.1\r\n\
Host: chat.example.com:8080\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: https://chat.example.com\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-GB,en-US;q=0.9,en;q=0.8,de;q=0.7\r\n\
Cookie: session=4f9c1a7e2b3d4c5e6f708192a3b4c5d6; theme=dark; consent=yes\r\n\
Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

fn handshake_server(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake_server");
    short(&mut group);
    group.throughput(Throughput::Elements(1));
    for (name, request) in [("rfc6455", RFC_REQUEST), ("browser", BROWSER_REQUEST)] {
        group.bench_function(format!("parse_{name}"), |b| {
            b.iter(|| {
                let mut parser = RequestParser::new(HeadLimits::default());
                let mut headers = [Header::EMPTY; 32];
                match parser.parse(black_box(request), &mut headers).unwrap() {
                    Status::Complete((len, req)) => (len, req.headers().len()),
                    Status::Partial => unreachable!("the head is complete"),
                }
            })
        });
        let mut headers = [Header::EMPTY; 32];
        let mut parser = RequestParser::new(HeadLimits::default());
        let Status::Complete((_, req)) = parser.parse(request, &mut headers).unwrap() else {
            unreachable!("the head is complete")
        };
        group.bench_function(format!("validate_upgrade_{name}"), |b| {
            b.iter(|| black_box(&req).validate_upgrade().unwrap())
        });
        // The whole server side of one handshake: parse, check, answer.
        group.bench_function(format!("parse_validate_respond_{name}"), |b| {
            b.iter(|| {
                let mut parser = RequestParser::new(HeadLimits::default());
                let mut headers = [Header::EMPTY; 32];
                let Status::Complete((_, req)) =
                    parser.parse(black_box(request), &mut headers).unwrap()
                else {
                    unreachable!("the head is complete")
                };
                let key = req.validate_upgrade().unwrap();
                let mut out = [0u8; 256];
                write_accept_response(&mut out, &key, None, &[]).unwrap()
            })
        });
    }
    let key = {
        let mut headers = [Header::EMPTY; 16];
        let mut parser = RequestParser::new(HeadLimits::default());
        let Status::Complete((_, req)) = parser.parse(RFC_REQUEST, &mut headers).unwrap() else {
            unreachable!("the head is complete")
        };
        req.validate_upgrade().unwrap()
    };
    let mut out = [0u8; 256];
    let n = write_accept_response(&mut out, &key, None, &[]).unwrap();
    assert!(out[..n]
        .windows(28)
        .any(|w| w == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    group.bench_function("write_accept_response", |b| {
        b.iter(|| write_accept_response(black_box(&mut out), black_box(&key), None, &[]).unwrap())
    });
    group.finish();
}

fn sha1_sizes(c: &mut Criterion) {
    for (label, size) in [("64B", 64usize), ("1MiB", 1 << 20)] {
        let data: Vec<u8> = (0..size).map(|i| (i * 13 + 1) as u8).collect();
        let mut group = c.benchmark_group(format!("sha1_{label}"));
        short(&mut group);
        if size >= 1 << 20 {
            group.sample_size(10);
        }
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function("digest", |b| b.iter(|| sha1::digest(black_box(&data))));
        group.finish();
    }
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
    targets = masking, utf8, receive, handshake, frame_header, unmask_sizes,
        handshake_server, sha1_sizes
}
criterion_main!(benches);
