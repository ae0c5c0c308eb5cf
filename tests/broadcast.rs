//! `PreparedMessage` over real loopback sockets: one message, framed once,
//! to many connections (RFC 6455 §5.1: a server's frames are not masked, so
//! one encoding serves them all), in every length form (§5.2), refused
//! exactly as `send_binary` is refused, after owed pongs, masked afresh by a
//! client (§5.3), and compressed once per window and level for the
//! connections without context takeover (RFC 7692 §7.1.1), by their own
//! deflater for the others.
//!
//! Every wait is bounded: sockets carry read and write timeouts, and every
//! loop has a count. Nothing asserts how long something took.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

use wslite::blocking::SocketOps;
use wslite::permessage_deflate::message::MessageInflater;
use wslite::protocol::Limits;
use wslite::{
    accept_with, Accept, ClientBuilder, CloseCode, Compression, Config, DataKind, Error, Message,
    PreparedMessage, WebSocket,
};

#[path = "common/wire.rs"]
mod wire;
use wire::{frame_bytes, read_frame, read_http_head, RawFrame};
#[path = "interop/generators.rs"]
mod generators;
use generators::{json_records, noise};

#[path = "common/bounded_config.rs"]
mod bounded_config;
use bounded_config::LONG;

/// Every wait bounded, compressing as `c` says, messages up to 4 MiB.
fn config(c: Option<Compression>) -> Config {
    bounded_config::config(c)
        .max_message_size(4 << 20)
        .max_frame_size(4 << 20)
}

/// The server side of one accepted connection, made by `accept_with` over
/// the bare `TcpStream`.
fn accept_one(listener: &TcpListener, server: Config) -> WebSocket<TcpStream> {
    let (stream, _) = listener.accept().expect("accept");
    stream.set_read_timeout(Some(LONG)).unwrap();
    stream.set_write_timeout(Some(LONG)).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut ws = accept_with(stream, server, |_| Ok(Accept::new())).expect("the handshake");
    ws.set_socket_ops(SocketOps::tcp()).expect("socket ops");
    ws
}

/// `n` connections: the clients (each made with its own configuration from
/// `client`) and the server sides, in the same order.
fn pairs(
    n: usize,
    client: impl Fn(usize) -> Config + Send + 'static,
    server: Config,
) -> (Vec<WebSocket<TcpStream>>, Vec<WebSocket<TcpStream>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let clients = thread::spawn(move || {
        (0..n)
            .map(|i| {
                ClientBuilder::new(format!("ws://{addr}/"))
                    .config(client(i))
                    .connect_timeout(Some(LONG))
                    .connect()
                    .expect("the client connects")
            })
            .collect::<Vec<_>>()
    });
    let servers = (0..n).map(|_| accept_one(&listener, server)).collect();
    (clients.join().expect("the clients' thread"), servers)
}

/// A raw client (the handshake done by hand) and the server side of its
/// connection. `offer`, when given, is its `Sec-WebSocket-Extensions`.
fn raw_pair(offer: Option<&str>, server: Config) -> (TcpStream, WebSocket<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let extensions = offer.map_or(String::new(), |o| {
        format!("Sec-WebSocket-Extensions: {o}\r\n")
    });
    let client = thread::spawn(move || {
        let mut stream = wire::raw_connect(addr, LONG);
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             {extensions}\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let head = read_http_head(&mut stream);
        assert!(head.starts_with("HTTP/1.1 101"), "no 101: {head}");
        stream
    });
    let server = accept_one(&listener, server);
    (client.join().expect("the raw client"), server)
}

fn next_frame(stream: &mut TcpStream) -> RawFrame {
    read_frame(stream, 8 << 20)
        .expect("a frame")
        .expect("not the end")
}

/// The message a prepared one stands for, as a reader gets it.
fn message_of(prepared: &PreparedMessage) -> Message {
    match prepared.kind() {
        DataKind::Text => Message::Text(String::from_utf8(prepared.payload().to_vec()).unwrap()),
        DataKind::Binary => Message::Binary(prepared.payload().to_vec()),
    }
}

fn opcode(kind: DataKind) -> u8 {
    match kind {
        DataKind::Text => 0x1,
        DataKind::Binary => 0x2,
    }
}

/// Each client reads one message on a thread of its own and checks it is
/// `expected`; waits for all of them.
fn all_read(clients: Vec<WebSocket<TcpStream>>, expected: Message) -> Vec<WebSocket<TcpStream>> {
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut ws| {
            let expected = expected.clone();
            thread::spawn(move || {
                let got = ws.read().expect("the broadcast");
                assert!(got == expected, "a connection read something else");
                ws
            })
        })
        .collect();
    readers
        .into_iter()
        .map(|r| r.join().expect("a reader"))
        .collect()
}

// ------------------------------------------------------------ to many

#[test]
fn one_prepared_message_reaches_two_hundred_connections_exactly() {
    const N: usize = 200;
    let (mut clients, servers) = pairs(N, |_| config(None), config(None));
    // The writers of split connections, shared out over 4 sending threads,
    // each with a clone of the one message.
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for ws in servers {
        let (reader, writer) = ws.split().expect("split");
        readers.push(reader);
        writers.push(writer);
    }
    let text = json_records(1000, 7);
    let prepared = PreparedMessage::text(&text);
    let senders: Vec<_> = writers
        .chunks(N / 4)
        .map(|chunk| {
            let (chunk, prepared) = (chunk.to_vec(), prepared.clone());
            thread::spawn(move || {
                for writer in &chunk {
                    writer.send_prepared(&prepared).expect("send_prepared");
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().expect("a sending thread");
    }
    // Small enough to wait in the socket buffers: read here, in order.
    for ws in &mut clients {
        assert_eq!(ws.read().expect("the broadcast"), Message::text(&*text));
    }
    // And the same value once more, through the unsplit `WebSocket`.
    let (mut clients, mut servers) = pairs(8, |_| config(None), config(None));
    let binary = PreparedMessage::binary(&noise(3000, 5));
    for ws in &mut servers {
        ws.send_prepared(&binary).expect("send_prepared");
    }
    for ws in &mut clients {
        assert_eq!(ws.read().expect("the broadcast"), message_of(&binary));
    }
    drop(readers);
}

#[test]
fn every_length_form_and_both_kinds_arrive_exactly() {
    const SIZES: [usize; 6] = [0, 125, 126, 65_535, 65_536, 1 << 20];
    // Two library clients and a raw one that checks the bytes on the wire.
    let (clients, mut servers) = pairs(2, |_| config(None), config(None));
    let (mut raw, raw_server) = raw_pair(None, config(None));
    servers.push(raw_server);
    let mut messages = Vec::new();
    for &size in &SIZES {
        let text = json_records(size, size as u64);
        // `json_records` gives at least `size` bytes; cut it to size on a
        // character boundary (it is ASCII).
        let text = &text[..size.min(text.len())];
        messages.push(PreparedMessage::text(text));
        messages.push(PreparedMessage::binary(&noise(size, size as u32 | 1)));
    }
    for prepared in &messages {
        let (kind, payload) = (prepared.kind(), prepared.payload());
        // The prepared frame is the server's frame, as an encoder written
        // apart from the library encodes it: FIN, no RSV, no mask, the
        // shortest length form.
        assert_eq!(
            prepared.frame(),
            &frame_bytes(true, 0, opcode(kind), None, payload)[..]
        );
    }
    let expected: Vec<Message> = messages.iter().map(message_of).collect();
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut ws| {
            let expected = expected.clone();
            thread::spawn(move || {
                for want in &expected {
                    let got = ws.read().expect("a message");
                    assert!(got == *want, "a message differs");
                }
            })
        })
        .collect();
    let expected_raw = messages.clone();
    let raw_reader = thread::spawn(move || {
        for prepared in &expected_raw {
            let frame = next_frame(&mut raw);
            assert!(frame.fin && !frame.masked);
            assert_eq!(frame.rsv, 0);
            assert_eq!(frame.opcode, opcode(prepared.kind()));
            assert!(frame.payload == prepared.payload(), "the payload differs");
        }
    });
    for prepared in &messages {
        for ws in &mut servers {
            ws.send_prepared(prepared).expect("send_prepared");
        }
    }
    for reader in readers {
        reader.join().expect("a reader");
    }
    raw_reader.join().expect("the raw reader");
}

// ------------------------------------------------------------ refused alike

/// Leaves a text message unfinished: its streamed text ends inside a
/// character, so it cannot be finished (and later whole messages are
/// refused until the connection closes).
fn leave_unfinished(ws: &mut WebSocket<TcpStream>) {
    let mut stream = ws.send_stream(DataKind::Text);
    stream.write_all("a €".as_bytes()[..3].as_ref()).unwrap();
    assert!(matches!(stream.finish(), Err(Error::InvalidInput(_))));
}

#[test]
fn a_fragmented_message_in_progress_refuses_it_as_send_binary_does() {
    // Uncompressed (the first piece went out), and compressed with and
    // without context takeover (the first piece may wait in the
    // compressor: no frame is out yet, and still no message may start).
    let compressions = [
        None,
        Some(Compression::default().threshold(0)),
        Some(no_takeover().threshold(0)),
    ];
    for compression in compressions {
        refused_while_unfinished(compression);
    }
}

fn refused_while_unfinished(compression: Option<Compression>) {
    let prepared = PreparedMessage::binary(b"not now");
    let (mut clients, servers) = pairs(2, move |_| config(compression), config(compression));
    let mut servers = servers.into_iter();
    // A whole connection...
    let mut ws = servers.next().unwrap();
    leave_unfinished(&mut ws);
    let binary = ws.send_binary(b"not now");
    assert!(
        matches!(binary, Err(Error::MessageInProgress)),
        "{binary:?}"
    );
    let got = ws.send_prepared(&prepared);
    assert_eq!(format!("{got:?}"), format!("{binary:?}"));
    drop(ws);
    // ...and the writer of a split one.
    let mut ws = servers.next().unwrap();
    leave_unfinished(&mut ws);
    let (reader, writer) = ws.split().expect("split");
    let binary = writer.send_binary(b"not now");
    assert!(
        matches!(binary, Err(Error::MessageInProgress)),
        "{binary:?}"
    );
    let got = writer.send_prepared(&prepared);
    assert_eq!(format!("{got:?}"), format!("{binary:?}"));
    // Nothing of either reached the peers: once the connections are
    // dropped, they read the end, and no message before it.
    drop((reader, writer));
    for client in &mut clients {
        match client.read() {
            Err(_) | Ok(Message::Close(_)) => {}
            Ok(other) => panic!("a peer read {other:?}"),
        }
    }
}

#[test]
fn a_closed_connection_refuses_it_as_send_binary_does() {
    let prepared = PreparedMessage::text("too late");
    let (clients, servers) = pairs(4, |_| config(None), config(None));
    let mut clients = clients.into_iter();
    let mut servers = servers.into_iter();
    let same = |prepared_result: wslite::Result<()>, binary: wslite::Result<()>| {
        assert!(binary.is_err(), "send_binary was not refused");
        assert_eq!(format!("{prepared_result:?}"), format!("{binary:?}"));
    };

    // The peer's Close was read (and answered).
    let (mut client, mut ws) = (clients.next().unwrap(), servers.next().unwrap());
    let closing = thread::spawn(move || client.close(CloseCode::NORMAL, "bye"));
    assert!(matches!(ws.read(), Ok(Message::Close(_))));
    same(ws.send_prepared(&prepared), ws.send_binary(b"x"));
    closing.join().unwrap().expect("the client's close");

    // We closed.
    let (mut client, mut ws) = (clients.next().unwrap(), servers.next().unwrap());
    let answering = thread::spawn(move || while client.read().is_ok() {});
    ws.close(CloseCode::NORMAL, "").expect("close");
    same(ws.send_prepared(&prepared), ws.send_binary(b"x"));
    answering.join().unwrap();

    // A split writer closed.
    let (mut client, ws) = (clients.next().unwrap(), servers.next().unwrap());
    let answering = thread::spawn(move || while client.read().is_ok() {});
    let (mut reader, writer) = ws.split().expect("split");
    let reading = thread::spawn(move || while reader.read().is_ok() {});
    writer.close(CloseCode::NORMAL, "").expect("close");
    same(writer.send_prepared(&prepared), writer.send_binary(b"x"));
    answering.join().unwrap();
    reading.join().unwrap();

    // The peer is gone and a write failed: the connection is broken.
    let (client, mut ws) = (clients.next().unwrap(), servers.next().unwrap());
    drop(client);
    let big = vec![0u8; 256 << 10];
    let failed = (0..1000).any(|_| ws.send_binary(&big).is_err());
    assert!(failed, "writing to a closed peer never failed");
    same(ws.send_prepared(&prepared), ws.send_binary(b"x"));
}

// ------------------------------------------------------------ owed first

#[test]
fn an_owed_pong_goes_out_before_the_prepared_message() {
    let (mut raw, ws) = raw_pair(None, config(None));
    let (mut reader, writer) = ws.split().expect("split");
    let (pinged_tx, pinged_rx) = mpsc::channel();
    let reading = thread::spawn(move || {
        for _ in 0..10 {
            match reader.read() {
                Ok(Message::Ping(p)) => pinged_tx.send(p).unwrap(),
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    // A writer holds the stream, blocked on a frame larger than the socket
    // buffers while the peer reads nothing; the ping arrives meanwhile, so
    // its pong is owed while the stream is busy.
    let big = vec![7u8; 8 << 20];
    let busy = {
        let writer = writer.clone();
        thread::spawn(move || writer.send_binary(&big))
    };
    // Its frame has begun (so nothing can go out before it) once its
    // first bytes arrive.
    let mut head = [0u8; 2];
    let seen = raw.peek(&mut head).unwrap();
    assert!(seen > 0 && head[0] == 0x82, "the large frame first");
    raw.write_all(&frame_bytes(
        true,
        0,
        0x9,
        Some([1, 2, 3, 4]),
        b"are you there",
    ))
    .unwrap();
    assert_eq!(pinged_rx.recv_timeout(LONG).unwrap(), b"are you there");
    let prepared = PreparedMessage::text("after the pong");
    let sending = {
        let writer = writer.clone();
        thread::spawn(move || writer.send_prepared(&prepared))
    };
    // Whoever sends the pong (the blocked writer when it is done, or
    // `send_prepared` taking the stream first), the peer sees it before
    // the prepared message.
    let first = next_frame(&mut raw);
    assert_eq!((first.opcode, first.payload.len()), (0x2, 8 << 20));
    let second = next_frame(&mut raw);
    assert_eq!(
        (second.opcode, &second.payload[..]),
        (0xA, &b"are you there"[..])
    );
    let third = next_frame(&mut raw);
    assert_eq!(
        (third.opcode, &third.payload[..]),
        (0x1, &b"after the pong"[..])
    );
    busy.join().unwrap().expect("the large send");
    sending.join().unwrap().expect("send_prepared");
    drop(raw);
    let _ = writer.close(CloseCode::NORMAL, "");
    reading.join().unwrap();
}

// ------------------------------------------------------------ a client

#[test]
fn a_client_masks_a_prepared_message_with_a_fresh_key_every_time() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut raw = wire::raw_server_accept(&listener, LONG);
        // Two frames of the same 10-byte message: header, key, payload.
        let mut frames = [[0u8; 2 + 4 + 10]; 2];
        for frame in &mut frames {
            raw.read_exact(frame).unwrap();
        }
        frames
    });
    let mut client = ClientBuilder::new(format!("ws://{addr}/"))
        .config(config(None))
        .connect()
        .expect("connect");
    let prepared = PreparedMessage::text("0123456789");
    client.send_prepared(&prepared).unwrap();
    client.send_prepared(&prepared).unwrap();
    let frames = server.join().unwrap();
    for frame in &frames {
        assert_eq!(frame[0], 0x81, "FIN, text");
        assert_eq!(frame[1], 0x80 | 10, "masked, 10 bytes");
        let key = &frame[2..6];
        let payload: Vec<u8> = frame[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        assert_eq!(payload, b"0123456789");
    }
    assert_ne!(frames[0][2..6], frames[1][2..6], "the same key twice");
    // And a library server reads what a client's writer sends (a split
    // client, a large message: the masked copy is made in pieces).
    let (mut clients, mut servers) = pairs(1, |_| config(None), config(None));
    let (_reader, writer) = clients.pop().unwrap().split().unwrap();
    let large = PreparedMessage::binary(&noise(300_000, 9));
    let expected = message_of(&large);
    let sending = thread::spawn(move || writer.send_prepared(&large));
    assert!(servers[0].read().unwrap() == expected);
    sending.join().unwrap().unwrap();
}

// ------------------------------------------------------------ compression

/// The server's compression: no context takeover, so one compression of a
/// message serves every connection with the same window and level.
fn no_takeover() -> Compression {
    Compression::default().server_no_context_takeover(true)
}

#[test]
fn without_context_takeover_a_message_is_compressed_once_for_all() {
    const N: usize = 20;
    let (clients, mut servers) = pairs(
        N,
        |_| config(Some(Compression::default())),
        config(Some(no_takeover())),
    );
    for ws in &servers {
        let agreed = ws.compression().expect("permessage-deflate");
        assert!(agreed.server_no_context_takeover);
    }
    let text = json_records(20_000, 1);
    let prepared = PreparedMessage::text(&text);
    for ws in &mut servers {
        ws.send_prepared(&prepared).expect("send_prepared");
    }
    assert_eq!(prepared.compressed_encodings(), 1);
    // Twice over: the second round compresses nothing more.
    let clients = all_read(clients, Message::text(&*text));
    for ws in &mut servers {
        ws.send_prepared(&prepared).expect("send_prepared");
    }
    assert_eq!(prepared.compressed_encodings(), 1);
    all_read(clients, Message::text(&*text));

    // On the wire: one frame with RSV1 whose payload inflates, from an
    // empty window, to the message.
    let (mut raw, mut ws) = raw_pair(
        Some("permessage-deflate; server_no_context_takeover"),
        config(Some(no_takeover())),
    );
    ws.send_prepared(&prepared).expect("send_prepared");
    assert_eq!(
        prepared.compressed_encodings(),
        1,
        "the same window and level"
    );
    let frame = next_frame(&mut raw);
    assert!(frame.fin && !frame.masked);
    assert_eq!((frame.rsv, frame.opcode), (0b100, 0x1));
    assert!(frame.payload.len() < text.len() / 2, "not compressed");
    let mut inflater = MessageInflater::new(vec![0u8; 1 << 15], true, Limits::default());
    let mut out = vec![0u8; 64 << 10];
    let inflated = inflater
        .inflate(DataKind::Text, &frame.payload, true, &mut out)
        .expect("inflates");
    assert!(inflated.done);
    assert!(out[..inflated.produced] == *text.as_bytes());
}

#[test]
fn two_window_sizes_make_two_encodings_and_every_connection_reads_its_own() {
    const N: usize = 10;
    // Half the clients ask the server for a 2^10 window, half for 2^12.
    let bits = |i: usize| if i % 2 == 0 { 10 } else { 12 };
    let (clients, mut servers) = pairs(
        N,
        move |i| config(Some(Compression::default().server_max_window_bits(bits(i)))),
        config(Some(no_takeover())),
    );
    for (i, ws) in servers.iter().enumerate() {
        assert_eq!(ws.compression().unwrap().server_max_window_bits, bits(i));
    }
    let prepared = PreparedMessage::binary(json_records(50_000, 9).as_bytes());
    for ws in &mut servers {
        ws.send_prepared(&prepared).expect("send_prepared");
    }
    assert_eq!(prepared.compressed_encodings(), 2);
    all_read(clients, message_of(&prepared));
}

#[test]
fn with_context_takeover_each_connection_compresses_with_its_own_window() {
    const N: usize = 6;
    // The server allows context takeover; every other client asks it not
    // to use it (its request is binding, RFC 7692 §7.1.1.1).
    let (mut clients, mut servers) = pairs(
        N,
        |i| {
            config(Some(
                Compression::default().server_no_context_takeover(i % 2 == 1),
            ))
        },
        config(Some(Compression::default())),
    );
    for (i, ws) in servers.iter().enumerate() {
        assert_eq!(
            ws.compression().unwrap().server_no_context_takeover,
            i % 2 == 1
        );
    }
    // The same message three times, and a different one: the windows of
    // the connections with takeover carry the earlier ones, so their
    // bytes differ from connection to connection's history, and every
    // reader must still get each message right.
    let first = PreparedMessage::text(&json_records(5000, 3));
    let second = PreparedMessage::text(&json_records(7000, 4));
    let sent = [&first, &first, &first, &second];
    for prepared in sent {
        for ws in &mut servers {
            ws.send_prepared(prepared).expect("send_prepared");
        }
    }
    for ws in &mut clients {
        for prepared in sent {
            assert!(ws.read().unwrap() == message_of(prepared));
        }
    }
    // Only the connections without takeover share an encoding (one each).
    assert_eq!(first.compressed_encodings(), 1);
    assert_eq!(second.compressed_encodings(), 1);
    let all_takeover = PreparedMessage::text(&json_records(5000, 5));
    for ws in servers.iter_mut().step_by(2) {
        ws.send_prepared(&all_takeover).expect("send_prepared");
    }
    assert_eq!(all_takeover.compressed_encodings(), 0);
    for ws in clients.iter_mut().step_by(2) {
        assert!(ws.read().unwrap() == message_of(&all_takeover));
    }
}

#[test]
fn a_message_below_the_threshold_goes_uncompressed() {
    let compression = no_takeover().threshold(100);
    let (mut raw, mut ws) = raw_pair(
        Some("permessage-deflate; server_no_context_takeover"),
        config(Some(compression)),
    );
    let short = PreparedMessage::text(&"x".repeat(99));
    let long = PreparedMessage::text(&"x".repeat(100));
    ws.send_prepared(&short).unwrap();
    ws.send_prepared(&long).unwrap();
    let frame = next_frame(&mut raw);
    assert_eq!((frame.rsv, frame.payload.len()), (0, 99));
    assert_eq!(short.compressed_encodings(), 0);
    let frame = next_frame(&mut raw);
    assert_eq!(frame.rsv, 0b100);
    assert!(frame.payload.len() < 100);
    assert_eq!(long.compressed_encodings(), 1);
}

// ------------------------------------------------------------ the type

#[test]
fn a_prepared_message_is_shared_across_threads_and_made_from_data_messages() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<PreparedMessage>();
    let prepared = PreparedMessage::try_from(Message::text("hi")).unwrap();
    assert_eq!(
        (prepared.kind(), prepared.payload()),
        (DataKind::Text, &b"hi"[..])
    );
    assert_eq!(prepared.frame(), [0x81, 2, b'h', b'i']);
    let prepared = PreparedMessage::try_from(Message::Binary(vec![1, 2])).unwrap();
    assert_eq!(prepared.kind(), DataKind::Binary);
    assert_eq!(prepared.len(), 2);
    assert!(PreparedMessage::binary(&[]).is_empty());
    assert!(matches!(
        PreparedMessage::try_from(Message::Ping(vec![])),
        Err(Error::InvalidInput(_))
    ));
}
