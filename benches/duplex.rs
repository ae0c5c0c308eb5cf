//! Full duplex throughput of a split connection beside the unsplit echo of
//! the same messages: binary messages of 32 KiB, sent to a wslite echo
//! [`Server`] and read back, both ends in this process over real TCP on
//! 127.0.0.1.
//!
//! Two functions in one group (one server for the group, shut down at its
//! end):
//!
//! * `split_N`: the connection is split; a writer thread sends N messages
//!   through the `WsWriter` while this thread reads the N echoes through the
//!   `WsReader`, so both directions carry data at once, as many bytes in
//!   flight as the socket buffers take. N is 256 (8 MiB each way per
//!   iteration). The writer thread lives for the whole bench and is told
//!   how many to send through a channel, so no thread is created per
//!   iteration.
//! * `unsplit_pipelined_W`: one unsplit `WebSocket` queues W messages with
//!   `write`, `flush`es them, then reads the W echoes. W is 32, 1 MiB in
//!   flight: an unsplit client does not read while it writes, and the echo
//!   server blocks while it writes an echo, so with more bytes in flight
//!   than the two sockets' buffers hold each would wait for the other for
//!   ever (see `benches/echo.rs`). That bound is what splitting removes.
//!
//! Throughput is in messages (`Elements`): a message counts once and crosses
//! the connection both ways (out, and back as its echo), so N messages/s is
//! N x 32 KiB/s in each direction.
//!
//! The machine this runs on is shared and has two cores, and a split client
//! with its echo server runs three busy threads on them: read these as "one
//! connection, both ends in one process", not as a capacity.

use std::hint::black_box;
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use wslite::{CloseCode, Message, WsReader};

#[path = "common/loopback.rs"]
mod loopback;
use loopback::{connect, spawn_echo_server};

/// The message size.
const SIZE: usize = 32 << 10;

/// Messages per iteration of the split bench.
const SPLIT_BATCH: usize = 256;

/// Messages in flight in the unsplit bench: 1 MiB of payload.
const UNSPLIT_WINDOW: usize = (1 << 20) / SIZE;

/// Checks an echo's kind and length.
fn check_echo(message: Message) {
    match message {
        Message::Binary(data) => assert_eq!(data.len(), SIZE, "echo of the wrong length"),
        other => panic!("expected a binary echo, got {other:?}"),
    }
}

fn read_split_echo(reader: &mut WsReader<TcpStream>) {
    check_echo(reader.read().expect("read an echo"));
}

fn duplex(c: &mut Criterion) {
    let payload: Vec<u8> = (0..SIZE).map(|i| b'a' + (i * 7 % 26) as u8).collect();
    let server = spawn_echo_server();

    let mut group = c.benchmark_group("duplex_32KiB");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        // Iterations of milliseconds: a fixed count per sample keeps the
        // group inside its time.
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10);

    // Split: a writer thread for the whole bench, fed batch sizes.
    {
        let (mut reader, writer) = connect(&server).split().expect("split");
        let (batches, batch_rx) = mpsc::channel::<usize>();
        let sender = {
            let writer = writer.clone();
            let payload = payload.clone();
            thread::spawn(move || {
                // Ends when the channel closes; a failed send panics, and
                // the reader then fails at its read timeout.
                while let Ok(n) = batch_rx.recv() {
                    for _ in 0..n {
                        writer.send_binary(black_box(&payload)).expect("send");
                    }
                }
            })
        };
        // One round before measuring: the handshake is behind us and the
        // buffers have their working size.
        batches.send(1).unwrap();
        read_split_echo(&mut reader);

        group.throughput(Throughput::Elements(SPLIT_BATCH as u64));
        group.bench_function(format!("split_{SPLIT_BATCH}"), |b| {
            b.iter(|| {
                batches.send(SPLIT_BATCH).unwrap();
                for _ in 0..SPLIT_BATCH {
                    read_split_echo(&mut reader);
                }
            })
        });

        drop(batches);
        sender.join().expect("the writer thread");
        // The reader must be reading for `close` to see the answer.
        let closing = thread::spawn(move || writer.close(CloseCode::NORMAL, ""));
        assert!(reader.read().expect("the echoed Close").is_close());
        closing.join().unwrap().expect("close");
    }

    // Unsplit: pipelined in windows an unsplit client cannot deadlock on.
    {
        let mut ws = connect(&server);
        ws.send_binary(&payload).unwrap();
        check_echo(ws.read().expect("read an echo"));

        group.throughput(Throughput::Elements(UNSPLIT_WINDOW as u64));
        group.bench_function(format!("unsplit_pipelined_{UNSPLIT_WINDOW}"), |b| {
            b.iter(|| {
                for _ in 0..UNSPLIT_WINDOW {
                    ws.write_binary(black_box(&payload)).unwrap();
                }
                ws.flush().unwrap();
                for _ in 0..UNSPLIT_WINDOW {
                    check_echo(ws.read().expect("read an echo"));
                }
            })
        });
        ws.close(CloseCode::NORMAL, "").unwrap();
    }
    group.finish();
    assert_eq!(server.shutdown(), 0, "echo server threads left running");
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = duplex
}
criterion_main!(benches);
