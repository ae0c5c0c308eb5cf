//! What changes from one CPU to another: byte order and the width of
//! `usize`.
//!
//! The wire is big-endian ("network byte order", RFC 6455 §5.2), and a frame
//! may announce up to 2^63 − 1 bytes in a 64-bit length field. A CPU of the
//! other byte order, or one whose `usize` has 32 bits, is where code that
//! assumed the machine it was written on goes wrong. The tests here say so
//! on any machine, and some only where they must: `tests/cross/run.sh` runs
//! this file, with the unit tests and the loopback integration tests, under
//! qemu-user on aarch64 (64-bit), armv7 (32-bit `usize`) and 32-bit PowerPC
//! (big-endian), and names the CPU it expects in `WSLITE_EXPECT_CPU`.
//!
//! The word-at-a-time masking has a test of its own for each byte order in
//! `src/frame.rs`.

use std::thread;
use std::time::Duration;

use wslite::protocol::{Connection, Event, Limits, Role};
use wslite::{CloseCode, Error, Message, Server};

#[path = "common/clients.rs"]
mod clients;

#[cfg(target_pointer_width = "32")]
#[path = "common/wire.rs"]
mod wire;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// 2^32 + 5: read as a 32-bit number, the length would be 5.
const PAST_32_BITS: u64 = (1 << 32) + 5;

/// The header of a masked binary frame from a client announcing `len` bytes,
/// written by hand in the 64-bit length form.
fn header_announcing(len: u64) -> Vec<u8> {
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&len.to_be_bytes());
    header.extend_from_slice(&KEY);
    header
}

/// The cross run must really run on the CPU it names: a runner that fell
/// back to the host, or a wrong target, would pass every other test and
/// prove nothing. Natively, it checks that the byte order the compiler was
/// told is the one the machine has.
#[test]
fn the_tests_run_on_the_cpu_the_cross_run_names() {
    // Loaded by the CPU at run time (black_box keeps the compiler from
    // folding the load with what it was told).
    let order = if u32::from_ne_bytes(std::hint::black_box([1, 0, 0, 0])) == 1 {
        "little"
    } else {
        "big"
    };
    assert_eq!(order == "big", cfg!(target_endian = "big"));
    assert_eq!(usize::BITS as usize, 8 * std::mem::size_of::<usize>());
    let here = format!(
        "{order}-endian {}-bit {}",
        usize::BITS,
        std::env::consts::ARCH
    );
    println!("cpu: {here}");
    if let Ok(expected) = std::env::var("WSLITE_EXPECT_CPU") {
        assert_eq!(here, expected, "the cross run is not on the CPU it names");
    }
}

/// The core counts a frame's length in a `u64` on every CPU. A frame of
/// 2^32 + 5 bytes, with the limits raised out of the way, is 2^32 + 5 bytes
/// of payload: the 5 that follow its header and the 6 bytes after them,
/// which would be a ping if the length had been cut to 32 bits, are payload.
#[test]
fn a_length_past_32_bits_is_counted_in_full_not_cut_to_usize() {
    let limits = Limits::default()
        .max_frame_size(u64::MAX)
        .max_message_size(u64::MAX);
    let mut conn = Connection::new(Role::Server, limits);
    let mut bytes = header_announcing(PAST_32_BITS);
    let payload_at = bytes.len();
    bytes.extend_from_slice(b"hello");
    // What a ping with an empty payload would look like.
    bytes.extend_from_slice(&[0x89, 0x80]);
    bytes.extend_from_slice(&KEY);
    for (i, byte) in bytes[payload_at..].iter_mut().enumerate() {
        *byte ^= KEY[i % 4];
    }

    let mut payload = Vec::new();
    let mut pos = 0;
    for _ in 0..100 {
        let received = conn.receive(&mut bytes[pos..]).expect("no violation");
        pos += received.consumed;
        match received.event {
            Some(Event::Data { bytes, fin, .. }) => {
                assert!(!fin, "the frame cannot have ended");
                payload.extend_from_slice(bytes);
            }
            Some(other) => panic!("the payload was read as a frame: {other:?}"),
            None if received.consumed == 0 => break,
            None => {}
        }
    }
    assert_eq!(pos, bytes.len());
    assert_eq!(payload, [b"hello".as_slice(), &[0x89, 0x80], &KEY].concat());
}

/// With the default limits, the same frame is refused with 1009 and the
/// error reports the length as announced, not a truncated one.
#[test]
fn a_length_past_32_bits_is_refused_with_its_full_value() {
    let mut conn = Connection::new(Role::Server, Limits::default());
    let mut bytes = header_announcing(PAST_32_BITS);
    let err = conn.receive(&mut bytes).expect_err("past the frame limit");
    assert!(
        matches!(
            err,
            Error::FrameTooLarge {
                length: PAST_32_BITS,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
}

/// What only a 32-bit CPU can show.
#[cfg(target_pointer_width = "32")]
mod thirty_two_bit {
    use std::io::Write;
    use std::net::TcpStream;
    use std::sync::mpsc;
    use std::time::Duration;

    use wslite::{Config, Error, Server};

    use super::{header_announcing, wire};

    const WAIT: Duration = Duration::from_secs(10);

    /// On a 32-bit CPU, the std layer's limits are `usize`s, so the largest it
    /// can be told is 4 GiB − 1: a frame announcing 2^32 bytes is then past any
    /// limit, and is refused with 1009 at its header, whatever was configured.
    /// It is never a length cut to 32 bits (0 here), nor an allocation that
    /// cannot succeed.
    #[test]
    fn a_frame_longer_than_the_address_space_gets_1009_at_the_largest_limits() {
        let config = Config::default()
            .max_message_size(usize::MAX)
            .max_frame_size(usize::MAX);
        let (tx, errors) = mpsc::channel();
        let handle = Server::bind("127.0.0.1:0")
            .unwrap()
            .config(config)
            .shutdown_timeout(Duration::from_secs(3))
            .spawn(move |mut ws: wslite::WebSocket<TcpStream>| {
                let _ = tx.send(ws.read().map(|_| ()));
            })
            .unwrap();
        let mut stream = wire::raw_upgraded_client(handle.local_addr(), WAIT);
        let past_usize = usize::MAX as u64 + 1;
        stream.write_all(&header_announcing(past_usize)).unwrap();

        let close = close_frame_from(&mut stream);
        assert_eq!(close, Some(1009));
        let err = errors
            .recv_timeout(WAIT)
            .expect("the handler returned")
            .expect_err("the read failed");
        assert!(
            matches!(err, Error::FrameTooLarge { length, .. } if length == past_usize),
            "{err:?}"
        );
        drop(stream);
        assert_eq!(handle.shutdown(), 0, "threads left at shutdown");
    }

    /// The status code of the first Close frame the server sends.
    fn close_frame_from(stream: &mut TcpStream) -> Option<u16> {
        for _ in 0..100 {
            let frame = wire::read_frame(stream, 1 << 20)
                .expect("a frame from the server")
                .expect("the server ended the stream before a Close");
            if frame.opcode == 0x8 {
                return frame.close_code();
            }
        }
        panic!("no Close frame among 100 frames");
    }
}

/// No limit, however high, lets through a length with its most significant
/// bit set: §5.2 says that bit is 0, so such a frame is a protocol error
/// (1002) on every CPU, before any limit is looked at.
#[test]
fn a_length_with_its_top_bit_set_is_a_protocol_error_whatever_the_limits() {
    let limits = Limits::default()
        .max_frame_size(u64::MAX)
        .max_message_size(u64::MAX);
    let mut conn = Connection::new(Role::Server, limits);
    let mut bytes = header_announcing(1 << 63);
    let err = conn.receive(&mut bytes).expect_err("§5.2: top bit is 0");
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR), "{err:?}");
}

/// The payloads the handful of clients send: every length encoding (7-bit,
/// 16-bit, 64-bit, and the edges between them), lengths that leave every
/// masking offset at a frame's end, and a few frames of the std layer's
/// 16 KiB write buffer.
const SIZES: [usize; 10] = [0, 1, 7, 125, 126, 1_000, 65_535, 65_536, 70_001, 300_003];

/// Client `c`'s message `m`, `n` bytes long: text for even `m`, binary for
/// odd, and different for every client and message, so an echo that crossed
/// connections or messages shows.
fn message(c: usize, m: usize, n: usize) -> Message {
    let bytes =
        (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8 ^ (c * 16 + m) as u8);
    if m % 2 == 0 {
        Message::Text(bytes.map(|b| char::from(b'a' + b % 26)).collect())
    } else {
        Message::Binary(bytes.collect())
    }
}

/// The server with a handful of clients, on whatever CPU this runs: each
/// client splits its connection, sends the sizes above from one thread
/// while its reader checks the echoes on another, and closes cleanly while
/// the reader reads the answer. Half the clients compress
/// (permessage-deflate, the default), half do not.
#[test]
fn a_server_echoes_a_handful_of_split_clients_every_length_form_both_ways() {
    const CLIENTS: usize = 6;
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(clients::echo)
        .unwrap();
    let addr = handle.local_addr();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            thread::spawn(move || {
                let mut config = clients::client_config();
                if c % 2 == 1 {
                    config = config.compression(None);
                }
                let (mut reader, writer) = clients::client_with(addr, config).split().unwrap();
                let sender = writer.clone();
                let sending = thread::spawn(move || {
                    for (m, &n) in SIZES.iter().enumerate() {
                        sender
                            .send(message(c, m, n))
                            .unwrap_or_else(|e| panic!("client {c}: sending {n} bytes: {e:?}"));
                    }
                });
                for (m, &n) in SIZES.iter().enumerate() {
                    let echoed = reader
                        .read()
                        .unwrap_or_else(|e| panic!("client {c}: reading the {n}-byte echo: {e:?}"));
                    // Compared without printing: the messages are large.
                    assert!(
                        echoed == message(c, m, n),
                        "client {c}: the {n}-byte echo differs"
                    );
                }
                sending.join().unwrap();
                let closing = thread::spawn(move || writer.close(CloseCode::NORMAL, "done"));
                let answer = reader.read();
                assert!(matches!(answer, Ok(Message::Close(Some(_)))), "{answer:?}");
                let closed = closing.join().unwrap();
                assert!(matches!(closed, Ok(Some(_))), "client {c}: {closed:?}");
            })
        })
        .collect();
    for client in threads {
        client.join().expect("a client failed");
    }
    assert_eq!(handle.shutdown(), 0, "threads left at shutdown");
}
