//! permessage-deflate (RFC 7692) over real loopback sockets: negotiation
//! by default, every window size and context-takeover setting both ways,
//! large messages in both directions at once, streams, and the peer that
//! breaks the rules (RSV1 where it is not allowed, data that does not
//! inflate, text that is not UTF-8 once inflated).
//!
//! The raw peers here build their compressed data by hand (stored blocks,
//! the RFC's own examples), independently of the library's deflater.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use wslite::{ClientBuilder, CloseCode, Compression, Message, Server, ServerHandle, WebSocket};

#[path = "common/clients.rs"]
mod clients;
use clients::echo;
#[path = "common/bomb.rs"]
mod bomb;
use bomb::stored_message;
#[path = "interop/generators.rs"]
mod generators;
#[path = "common/wire.rs"]
mod wire;
use generators::{json_records, noise};
use wire::{frame_bytes, raw_connect, read_frame, read_http_head, RawFrame};

#[path = "common/bounded_config.rs"]
mod bounded_config;
use bounded_config::{config, LONG};

fn echo_server(c: Option<Compression>) -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .expect("bind")
        .config(config(c))
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(echo)
        .expect("spawn")
}

fn client(addr: SocketAddr, c: Option<Compression>) -> WebSocket<TcpStream> {
    ClientBuilder::new(format!("ws://{addr}/"))
        .config(config(c))
        .connect()
        .expect("the client connects")
}

fn echoes(ws: &mut WebSocket<TcpStream>, message: Message) {
    ws.send(message.clone()).expect("send");
    let back = ws.read().expect("the echo");
    assert!(back == message, "the echo differs from what was sent");
}

#[test]
fn compression_is_agreed_by_default_and_messages_of_every_size_round_trip() {
    let server = echo_server(Some(Compression::default()));
    let mut ws = client(server.local_addr(), Some(Compression::default()));
    let agreed = ws.compression().expect("permessage-deflate agreed");
    assert_eq!(agreed.server_max_window_bits, 12);
    assert_eq!(agreed.client_max_window_bits, 12);
    for len in [0, 1, 1023, 1024, 4096, 65_535, 65_536, 300_000, 3 << 20] {
        echoes(&mut ws, Message::Text(json_records(len, len as u64)));
        echoes(&mut ws, Message::Binary(noise(len, len as u32 | 1)));
    }
    ws.close(CloseCode::NORMAL, "").expect("close");
    assert_eq!(server.shutdown(), 0);
}

#[test]
fn every_window_size_level_and_takeover_setting_round_trips() {
    let mut runs = 0;
    for bits in [8u8, 9, 12, 15] {
        for (level, no_takeover) in [(0u8, false), (1, true), (6, false), (9, true)] {
            let server_side = Compression::default()
                .window_bits(bits)
                .level(level)
                .server_no_context_takeover(no_takeover)
                .threshold(0);
            // The client asks for different windows than the server's, so
            // both limits meet in the agreement.
            let client_side = Compression::default()
                .server_max_window_bits(15)
                .client_max_window_bits(bits.max(9))
                .client_no_context_takeover(!no_takeover)
                .level(9 - level)
                .threshold(0);
            let server = echo_server(Some(server_side));
            let mut ws = client(server.local_addr(), Some(client_side));
            let agreed = ws.compression().expect("agreed");
            assert!(agreed.server_max_window_bits <= bits);
            assert!(agreed.client_max_window_bits <= bits.max(9));
            assert_eq!(agreed.server_no_context_takeover, no_takeover);
            assert_eq!(agreed.client_no_context_takeover, !no_takeover);
            // Messages that refer back to earlier ones (when the window is
            // kept), with some far back-references.
            let base = json_records(40_000, u64::from(bits));
            for i in 0..12 {
                let text = format!("{i}:{}", &base[i * 1000..]);
                echoes(&mut ws, Message::Text(text));
            }
            echoes(&mut ws, Message::Binary(noise(70_000, 7)));
            ws.close(CloseCode::NORMAL, "").expect("close");
            assert_eq!(server.shutdown(), 0);
            runs += 1;
        }
    }
    assert_eq!(runs, 16);
}

#[test]
fn off_on_either_side_means_off() {
    for (s, c) in [
        (None, Some(Compression::default())),
        (Some(Compression::default()), None),
    ] {
        let server = echo_server(s);
        let mut ws = client(server.local_addr(), c);
        assert!(ws.compression().is_none());
        echoes(&mut ws, Message::Text(json_records(10_000, 1)));
        ws.close(CloseCode::NORMAL, "").expect("close");
        assert_eq!(server.shutdown(), 0);
    }
}

#[test]
fn large_compressed_messages_both_ways_at_once_do_not_deadlock() {
    // The server echoes; the client writes 64 messages of 512 KiB from one
    // thread while another reads the echoes: both directions full at once.
    // Level 1 both ways: what is tested is the traffic, not the ratio.
    let server = echo_server(Some(Compression::default().level(1)));
    let ws = client(server.local_addr(), Some(Compression::default().level(1)));
    let (mut reader, writer) = ws.split().expect("split");
    const COUNT: usize = 64;
    const LEN: usize = 512 << 10;
    let sent = thread::spawn(move || {
        for i in 0..COUNT {
            let text = json_records(LEN, i as u64);
            writer.send(Message::Text(text)).expect("send");
        }
        writer
    });
    for i in 0..COUNT {
        match reader.read().expect("an echo") {
            Message::Text(text) => assert!(text == json_records(LEN, i as u64), "echo {i} differs"),
            other => panic!("unexpected {other:?}"),
        }
    }
    // Closing with the reader reading the answer, as `WsWriter::close`
    // expects of a split connection.
    let writer = sent.join().expect("the writer ends");
    let closing = thread::spawn(move || writer.close(CloseCode::NORMAL, ""));
    assert!(
        matches!(reader.read(), Ok(Message::Close(_))),
        "the answer to close"
    );
    closing.join().expect("the closing thread").expect("close");
    assert_eq!(server.shutdown(), 0);
}

#[test]
fn streams_are_compressed_and_inflated_as_they_go() {
    // The server copies each message stream to stream: neither side holds
    // a whole message.
    let server = Server::bind("127.0.0.1:0")
        .expect("bind")
        .config(config(Some(Compression::default())))
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(|mut ws| {
            for _ in 0..10 {
                let Ok(mut incoming) = ws.read_stream() else {
                    return;
                };
                let kind = incoming.kind();
                let mut data = Vec::new();
                if incoming.read_to_end(&mut data).is_err() {
                    return;
                }
                drop(incoming);
                let mut out = ws.send_stream(kind);
                for chunk in data.chunks(10_000) {
                    out.write_all(chunk).expect("write");
                }
                out.finish().expect("finish");
            }
        })
        .expect("spawn");
    let mut ws = client(server.local_addr(), Some(Compression::default()));
    let text = json_records(8 << 20, 3);
    {
        let mut out = ws.send_stream(wslite::DataKind::Text);
        for chunk in text.as_bytes().chunks(64 << 10) {
            out.write_all(chunk).expect("write");
        }
        out.finish().expect("finish");
    }
    let mut back = Vec::new();
    ws.read_stream()
        .expect("the echo")
        .read_to_end(&mut back)
        .expect("read");
    assert!(back == text.as_bytes(), "the streamed echo differs");
    ws.close(CloseCode::NORMAL, "").expect("close");
    assert_eq!(server.shutdown(), 0);
}

// ---------------------------------------------------------------- raw peers

/// A raw client that offers `offer` and returns the stream and the answer.
fn raw_client(addr: SocketAddr, offer: &str) -> (TcpStream, String) {
    let mut stream = raw_connect(addr, LONG);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {offer}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let head = read_http_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 101"), "no 101: {head}");
    (stream, head)
}

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn send(stream: &mut TcpStream, fin: bool, rsv: u8, opcode: u8, payload: &[u8]) {
    stream
        .write_all(&frame_bytes(fin, rsv, opcode, Some(KEY), payload))
        .unwrap();
}

fn next_frame(stream: &mut TcpStream) -> RawFrame {
    read_frame(stream, 1 << 24)
        .expect("a frame")
        .expect("not the end")
}

/// Reads frames until a Close and returns its code.
fn close_code(stream: &mut TcpStream) -> Option<u16> {
    for _ in 0..10_000 {
        match read_frame(stream, 1 << 24) {
            Ok(Some(frame)) if frame.opcode == 0x8 => return frame.close_code(),
            Ok(Some(_)) => {}
            _ => return None,
        }
    }
    None
}

#[test]
fn the_rfc_examples_inflate_and_the_answer_names_the_extension() {
    let server = echo_server(Some(Compression::default()));
    let (mut s, head) = raw_client(server.local_addr(), "permessage-deflate");
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-extensions: permessage-deflate"),
        "{head}"
    );
    // §7.2.3.1: "Hello" in one fixed-Huffman block.
    send(
        &mut s,
        true,
        0b100,
        0x1,
        &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
    );
    // §7.2.3.2: the same again, referring back into the first message.
    send(&mut s, true, 0b100, 0x1, &[0xf2, 0x00, 0x11, 0x00, 0x00]);
    // §7.2.3.3: in a stored block.
    send(
        &mut s,
        true,
        0b100,
        0x1,
        &[
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ],
    );
    // §7.2.3.4: with BFINAL set.
    send(
        &mut s,
        true,
        0b100,
        0x1,
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
    );
    // §7.2.3.5: two blocks ("He", then "llo").
    send(
        &mut s,
        true,
        0b100,
        0x1,
        &[
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ],
    );
    // A compressed message in three fragments: RSV1 on the first only.
    let payload = stored_message(b"fragmented hello");
    let (a, rest) = payload.split_at(3);
    let (b, c) = rest.split_at(7);
    send(&mut s, false, 0b100, 0x1, a);
    send(&mut s, false, 0, 0x0, b);
    send(&mut s, true, 0, 0x0, c);
    // Echoes under the 1 KiB threshold come back uncompressed.
    for expected in [
        "Hello",
        "Hello",
        "Hello",
        "Hello",
        "Hello",
        "fragmented hello",
    ] {
        let frame = next_frame(&mut s);
        assert_eq!((frame.opcode, frame.rsv), (0x1, 0), "{frame:?}");
        assert_eq!(frame.payload, expected.as_bytes());
    }
    // A large one comes back compressed: RSV1 set, and smaller.
    let big = json_records(20_000, 9);
    send(&mut s, true, 0b100, 0x1, &stored_message(big.as_bytes()));
    let frame = next_frame(&mut s);
    assert_eq!(
        frame.rsv, 0b100,
        "the echo of a large message is compressed"
    );
    assert!(
        frame.payload.len() < big.len() / 2,
        "{} bytes",
        frame.payload.len()
    );
    let mut inflated = vec![0u8; big.len() + 16];
    let mut inflater = wslite::deflate::inflate::Inflater::new(vec![0u8; 1 << 15]);
    let mut input = frame.payload.clone();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let progress = inflater
        .inflate(&input, &mut inflated)
        .expect("valid DEFLATE");
    assert_eq!(&inflated[..progress.produced], big.as_bytes());
    drop(s);
    assert_eq!(server.shutdown(), 0);
}

/// One frame a raw client sends: (FIN, RSV bits, opcode, payload).
type RawSend<'a> = (bool, u8, u8, &'a [u8]);

/// The close code the server answers with after a raw client that offered
/// permessage-deflate sends `frames`, on a connection of its own.
fn close_code_after(addr: SocketAddr, frames: &[RawSend]) -> Option<u16> {
    let (mut s, _) = raw_client(addr, "permessage-deflate");
    for &(fin, rsv, opcode, payload) in frames {
        send(&mut s, fin, rsv, opcode, payload);
    }
    close_code(&mut s)
}

#[test]
fn rsv1_where_the_extension_does_not_allow_it_is_a_protocol_error() {
    let server = echo_server(Some(Compression::default()));
    let addr = server.local_addr();
    let ab = stored_message(b"ab");
    let cases: [(&str, &[RawSend]); 3] = [
        (
            "on a continuation frame",
            &[(false, 0b100, 0x1, &ab[..3]), (true, 0b100, 0x0, &ab[3..])],
        ),
        ("on a control frame", &[(true, 0b100, 0x9, b"ping")]),
        (
            "RSV2 and RSV3 are not the extension's",
            &[(true, 0b110, 0x1, &ab)],
        ),
    ];
    for (what, frames) in cases {
        assert_eq!(close_code_after(addr, frames), Some(1002), "{what}");
    }
    // Not negotiated: the client did not offer it.
    let (mut s, head) = raw_client(addr, "x-unknown-extension");
    assert!(
        !head.to_ascii_lowercase().contains("permessage-deflate"),
        "{head}"
    );
    send(&mut s, true, 0b100, 0x1, &ab);
    assert_eq!(close_code(&mut s), Some(1002));
    assert_eq!(server.shutdown(), 0);
}

#[test]
fn data_that_does_not_inflate_or_is_not_utf8_once_inflated_is_1007() {
    let server = echo_server(Some(Compression::default()));
    let addr = server.local_addr();
    let not_utf8 = stored_message(&[b'o', b'k', 0x80]);
    let cut_character = stored_message(&[0xc3]);
    let cases: [(&str, RawSend); 5] = [
        // RFC 1951 §3.2.3.
        ("BTYPE 11 is reserved", (true, 0b100, 0x2, &[0xff, 0xff])),
        // §3.2.4.
        (
            "a stored block whose NLEN is not LEN's complement",
            (
                true,
                0b100,
                0x2,
                &[0x00, 0x02, 0x00, 0x00, 0x00, b'a', b'b', 0x00],
            ),
        ),
        (
            "a back-reference to before the first byte",
            (true, 0b100, 0x2, &[0x02, 0x02]),
        ),
        (
            "valid DEFLATE, invalid UTF-8 once inflated (a lone continuation byte)",
            (true, 0b100, 0x1, &not_utf8),
        ),
        (
            "text cut inside a character at the message's end",
            (true, 0b100, 0x1, &cut_character),
        ),
    ];
    for (what, frame) in cases {
        assert_eq!(close_code_after(addr, &[frame]), Some(1007), "{what}");
    }
    assert_eq!(server.shutdown(), 0);
}

#[test]
fn a_client_fails_a_server_answer_that_breaks_the_extension_rules() {
    // Servers by hand, each answering the offer wrongly.
    for answer in [
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; unknown_parameter",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate, permessage-deflate",
        "permessage-deflate; server_max_window_bits=13",
    ] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        let answer_owned = answer.to_string();
        let peer = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(LONG)).unwrap();
            let head = read_http_head(&mut s);
            tx.send(head.clone()).unwrap();
            let reply = wire::answer_101(&head).replace(
                "\r\n\r\n",
                &format!("\r\nSec-WebSocket-Extensions: {answer_owned}\r\n\r\n"),
            );
            let _ = s.write_all(reply.as_bytes());
            let mut sink = [0u8; 64];
            let _ = s.read(&mut sink);
        });
        let result = ClientBuilder::new(format!("ws://{addr}/"))
            .config(config(Some(
                Compression::default().server_max_window_bits(12),
            )))
            .connect();
        let offer = rx.recv_timeout(LONG).unwrap();
        assert!(offer.contains("permessage-deflate"), "{offer}");
        assert!(result.is_err(), "accepted {answer}");
        peer.join().unwrap();
    }
}
