//! Decompression bombs against the blocking server (RFC 7692 §8.1, RFC 6455
//! §10.4): a GiB of zeros compressed to about 1.5 MB, sent by a raw peer
//! in 16 KiB frames, is refused with 1009 at the message limit, and the
//! server's heap grows by no more than the window plus the limit (whole
//! messages, `read`) or the window and its buffers (`read_stream`).
//!
//! One test binary of its own, its tests one after another: the heap is
//! measured for the whole process.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use wslite::{Compression, Config, Server};

#[path = "common/bomb.rs"]
mod bomb;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
#[path = "common/wire.rs"]
mod wire;
use wire::{frame_bytes, raw_connect, read_frame, read_http_head};

#[global_allocator]
static ALLOCATOR: counting_alloc::CountingAllocator =
    counting_alloc::CountingAllocator(counting_alloc::process::track);
use counting_alloc::process::{peak_above, reset_peak};

/// The tests measure the whole process: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const WAIT: Duration = Duration::from_secs(20);
const LIMIT: usize = 1 << 20;

/// What the server's handler does with a message.
#[derive(Clone, Copy)]
enum Handler {
    /// `read()`: the whole message in memory, up to the limit.
    Whole,
    /// `read_stream()` into a sink: nothing kept.
    Stream,
}

/// Sends the bomb to a server that handles messages as `handler` says;
/// returns the Close code the server answered with and the heap the
/// process grew by meanwhile.
fn bomb_server(handler: Handler) -> (Option<u16>, usize) {
    let config = Config::default()
        .max_message_size(LIMIT)
        .read_timeout(Some(WAIT))
        .close_timeout(Duration::from_secs(2))
        .compression(Some(Compression::default()));
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(config)
        .shutdown_timeout(Duration::from_secs(5))
        .spawn(move |mut ws| match handler {
            Handler::Whole => while ws.read().is_ok() {},
            Handler::Stream => {
                while let Ok(mut message) = ws.read_stream() {
                    if std::io::copy(&mut message, &mut std::io::sink()).is_err() {
                        break;
                    }
                }
            }
        })
        .unwrap();
    let addr = server.local_addr();
    let payload = bomb::zeros_bomb(1 << 30);

    let mut stream = raw_connect(addr, WAIT);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let head = read_http_head(&mut stream);
    assert!(head.contains("permessage-deflate"), "{head}");

    // The bomb in 16 KiB frames, RSV1 on the first, from a thread of its
    // own; it stops when the server stops reading.
    let mut writer: TcpStream = stream.try_clone().unwrap();
    let frames: Vec<Vec<u8>> = payload
        .chunks(16 << 10)
        .enumerate()
        .map(|(i, chunk)| {
            let (rsv, opcode) = if i == 0 { (0b100, 0x2) } else { (0, 0x0) };
            frame_bytes(false, rsv, opcode, Some([1, 2, 3, 4]), chunk)
        })
        .collect();
    // Measure from here: the server thread and its connection exist.
    thread::sleep(Duration::from_millis(50));
    let base = reset_peak();

    // The frames come back from the thread, so that they are freed after
    // the measurement, not during it.
    let sender = thread::spawn(move || {
        for frame in &frames {
            if writer.write_all(frame).is_err() {
                break;
            }
        }
        frames
    });
    let mut code = None;
    for _ in 0..1000 {
        match read_frame(&mut stream, 1 << 20) {
            Ok(Some(frame)) if frame.opcode == 0x8 => {
                code = frame.close_code();
                break;
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let grown = peak_above(base);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    drop(sender.join().unwrap());
    assert_eq!(server.shutdown(), 0);
    (code, grown)
}

#[test]
fn a_gib_of_zeros_read_whole_is_refused_at_the_limit_with_memory_bounded_by_it() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (code, grown) = bomb_server(Handler::Whole);
    eprintln!("read(): refused with {code:?}, heap grew by {grown} bytes");
    assert_eq!(code, Some(1009));
    // The message kept up to the limit, a 32 KiB window (the offer did not
    // limit the client's), the inflater's 16 KiB buffer and the read
    // buffer: about the limit plus 55 KiB, under the limit plus 128 KiB.
    assert!(
        grown < LIMIT + (128 << 10),
        "the heap grew by {grown} bytes"
    );
}

#[test]
fn a_gib_of_zeros_read_as_a_stream_is_refused_at_the_limit_holding_only_buffers() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (code, grown) = bomb_server(Handler::Stream);
    eprintln!("read_stream(): refused with {code:?}, heap grew by {grown} bytes");
    assert_eq!(code, Some(1009));
    // Nothing of the message is kept: only the window and the buffers.
    assert!(grown < 128 << 10, "the heap grew by {grown} bytes");
}
