//! End-to-end loopback echo: a wslite [`Server`] and a wslite client in the
//! same process, over real TCP on 127.0.0.1, for binary messages of 16 B,
//! 1 KiB, 64 KiB and 1 MiB. Everything a connection does is in the numbers:
//! masking and framing on the client, parsing, unmasking and reassembly on
//! the server, the echo back (unmasked), parsing and reassembly on the
//! client, and the system calls and thread wake-ups of both sides.
//!
//! Two shapes per size, one group per size (one server for the group, shut
//! down at its end):
//!
//! * `round_trip`: `send` one message, `read` its echo. One message in
//!   flight: this is latency, dominated by two wake-ups per message.
//! * `pipelined_W`: queue W messages with `write`, `flush` them, then `read`
//!   the W echoes. W is 64 for 16 B and 1 KiB, and is bounded by 1 MiB of
//!   payload in flight above that (16 for 64 KiB, 1 for 1 MiB; see
//!   [`window`]). The bound is needed, not chosen: this client does not read
//!   while it writes, and the server blocks while it writes an echo, so once
//!   more bytes are in flight than the two sockets' buffers hold, each waits
//!   for the other for ever (64 x 64 KiB stalls here; the side-by-side
//!   harness's `raw-echo-server` never blocks in a send, so the client
//!   matrix there does not meet this).
//!
//! Throughput is in messages (`Elements`) for 16 B and 1 KiB, where the
//! per-message cost matters, and in payload bytes, one direction, for
//! 64 KiB and 1 MiB.
//!
//! The machine this runs on is shared and has two cores: client and server
//! threads compete for them, so read these as "one connection, both ends in
//! one process", not as a server's capacity (the side-by-side harness in
//! `/work/shared/perf` measures that, with each side pinned to its core).

use std::hint::black_box;
use std::net::TcpStream;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use wslite::{CloseCode, Message, WebSocket};

#[path = "common/loopback.rs"]
mod loopback;
use loopback::{connect, spawn_echo_server};

/// Payload bytes allowed in flight by the pipelined bench (see the module
/// documentation).
const MAX_IN_FLIGHT_BYTES: usize = 1 << 20;

/// Reads one echo and checks its length.
fn read_echo(ws: &mut WebSocket<TcpStream>, size: usize) {
    match ws.read().expect("read an echo") {
        Message::Binary(data) => assert_eq!(data.len(), size, "echo of the wrong length"),
        other => panic!("expected a binary echo, got {other:?}"),
    }
}

/// Messages in flight in the pipelined bench: 64, fewer when 64 messages
/// would be more than [`MAX_IN_FLIGHT_BYTES`].
fn window(size: usize) -> usize {
    (MAX_IN_FLIGHT_BYTES / size).clamp(1, 64)
}

fn echo(c: &mut Criterion) {
    for (label, size) in [
        ("16B", 16usize),
        ("1KiB", 1 << 10),
        ("64KiB", 64 << 10),
        ("1MiB", 1 << 20),
    ] {
        let payload: Vec<u8> = (0..size).map(|i| b'a' + (i * 7 % 26) as u8).collect();
        let server = spawn_echo_server();
        let mut ws = connect(&server);
        // One echo before measuring, so the handshake is behind us and the
        // buffers have their working size.
        ws.send_binary(&payload).unwrap();
        read_echo(&mut ws, size);

        let mut group = c.benchmark_group(format!("echo_{label}"));
        group
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1500));
        if size >= 64 << 10 {
            // Iterations of milliseconds: a fixed count per sample keeps the
            // group inside its time.
            group.sampling_mode(SamplingMode::Flat).sample_size(10);
        }
        let per_message = |n: usize| {
            if size >= 64 << 10 {
                Throughput::Bytes((n * size) as u64)
            } else {
                Throughput::Elements(n as u64)
            }
        };

        group.throughput(per_message(1));
        group.bench_function("round_trip", |b| {
            b.iter(|| {
                ws.send_binary(black_box(&payload)).unwrap();
                read_echo(&mut ws, size);
            })
        });

        let w = window(size);
        group.throughput(per_message(w));
        group.bench_function(format!("pipelined_{w}"), |b| {
            b.iter(|| {
                for _ in 0..w {
                    ws.write(black_box(payload.clone())).unwrap();
                }
                ws.flush().unwrap();
                for _ in 0..w {
                    read_echo(&mut ws, size);
                }
            })
        });
        group.finish();

        ws.close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(server.shutdown(), 0, "echo server threads left running");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = echo
}
criterion_main!(benches);
