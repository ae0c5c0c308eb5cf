// The stand-in network stack for the server loop in no_std_notes.md ("The
// loop, independent of the network stack"), and the scenarios it is run
// through. The doctest includes this file with one hidden line and ends with
// `peer::check_all(serve)`.
//
// `socket_read`, `socket_write`, `socket_close` and `handle` are what a board
// would provide. Here they talk to a scripted peer: the bytes it sends, cut
// into pieces of the sizes a scenario gives, and then either the end of TCP
// (a read returns 0) or nothing. Every loop is bounded: reading past the
// script, or after the end of TCP was reported once, or after our side
// closed, panics with the scenario's name; so does a loop that keeps
// writing, or calls `handle` without end. A loop that spins therefore fails
// the doctest instead of hanging it.

use std::cell::RefCell;

/// What the peer does and what the server did to it.
struct Peer {
    name: &'static str,
    script: Vec<u8>,
    /// Piece sizes, cycled.
    pieces: Vec<usize>,
    piece: usize,
    sent: usize,
    /// Whether the peer ends TCP once the script is sent.
    ends_tcp: bool,
    reported_end: bool,
    reads: usize,
    written: Vec<u8>,
    writes: usize,
    closed: bool,
    /// Every data piece the application was given, joined, with one entry
    /// per finished message.
    data: Vec<u8>,
    messages: Vec<Vec<u8>>,
    handled: usize,
}

thread_local! {
    static PEER: RefCell<Option<Peer>> = const { RefCell::new(None) };
}

/// Runs `f` on the scenario's peer.
fn with_peer<T>(f: impl FnOnce(&mut Peer) -> T) -> T {
    PEER.with(|p| f(p.borrow_mut().as_mut().expect("no scenario is running")))
}

/// Reads what the peer sent next, at most one piece. 0: the peer ended TCP.
fn socket_read(buf: &mut [u8]) -> Result<usize, wslite::Error> {
    with_peer(|p| {
        p.reads += 1;
        assert!(!p.closed, "{}: read after our side closed TCP", p.name);
        assert!(
            p.reads < 4000,
            "{}: the loop keeps reading: it spins",
            p.name
        );
        if p.sent == p.script.len() {
            assert!(
                p.ends_tcp && !p.reported_end,
                "{}: read again after the peer said everything{}: the loop did not end",
                p.name,
                if p.ends_tcp { " and ended TCP" } else { "" },
            );
            p.reported_end = true;
            return Ok(0);
        }
        let size = p.pieces[p.piece % p.pieces.len()];
        p.piece += 1;
        let n = size.min(p.script.len() - p.sent).min(buf.len());
        buf[..n].copy_from_slice(&p.script[p.sent..p.sent + n]);
        p.sent += n;
        Ok(n)
    })
}

/// Sends bytes to the peer.
fn socket_write(bytes: &[u8]) -> Result<(), wslite::Error> {
    with_peer(|p| {
        p.writes += 1;
        assert!(!p.closed, "{}: wrote after closing TCP", p.name);
        assert!(
            p.writes < 100,
            "{}: the loop keeps writing: it spins",
            p.name
        );
        p.written.extend_from_slice(bytes);
        Ok(())
    })
}

/// Ends TCP (our FIN after the last frame).
fn socket_close() {
    with_peer(|p| {
        assert!(!p.closed, "{}: closed TCP twice", p.name);
        p.closed = true;
    })
}

/// The application: keeps what it is given.
fn handle(_kind: wslite::protocol::DataKind, bytes: &[u8], fin: bool) {
    with_peer(|p| {
        p.handled += 1;
        assert!(p.handled < 4000, "{}: handle is called without end", p.name);
        p.data.extend_from_slice(bytes);
        if fin {
            let message = core::mem::take(&mut p.data);
            p.messages.push(message);
        }
    })
}

mod peer {
    use super::{Peer, PEER};
    use wslite::Error;

    /// A server never masks, so never asks for randomness.
    pub struct NoMasks;

    impl wslite::RandomSource for NoMasks {
        fn fill_bytes(&mut self, _dest: &mut [u8]) {
            panic!("a server asked for a masking key");
        }
    }

    /// The RFC 6455 §1.3 request, and the 101 that answers it.
    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\
        Upgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const ACCEPT: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    /// A frame as a client sends it: masked with `key`; payload under 126.
    fn masked(b0: u8, payload: &[u8]) -> Vec<u8> {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = vec![b0, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&key);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        frame
    }

    struct Outcome {
        result: Result<(), Error>,
        written: Vec<u8>,
        closed: bool,
        messages: Vec<Vec<u8>>,
        unfinished: Vec<u8>,
    }

    /// Runs `serve` against a peer that sends `script` in pieces of
    /// `pieces` bytes (cycled) and then ends TCP or not.
    fn run(
        serve: fn(&mut NoMasks) -> Result<(), Error>,
        name: &'static str,
        script: &[u8],
        pieces: &[usize],
        ends_tcp: bool,
    ) -> Outcome {
        PEER.with(|p| {
            *p.borrow_mut() = Some(Peer {
                name,
                script: script.to_vec(),
                pieces: pieces.to_vec(),
                piece: 0,
                sent: 0,
                ends_tcp,
                reported_end: false,
                reads: 0,
                written: Vec::new(),
                writes: 0,
                closed: false,
                data: Vec::new(),
                messages: Vec::new(),
                handled: 0,
            })
        });
        let result = serve(&mut NoMasks);
        let peer = PEER
            .with(|p| p.borrow_mut().take())
            .expect("the peer is gone");
        Outcome {
            result,
            written: peer.written,
            closed: peer.closed,
            messages: peer.messages,
            unfinished: peer.data,
        }
    }

    /// Runs a scenario in which the peer breaks a rule after the handshake:
    /// the server writes the 101, then only the Close with `code`, and
    /// closes TCP.
    fn violation(
        serve: fn(&mut NoMasks) -> Result<(), Error>,
        name: &'static str,
        script: &[u8],
        pieces: &[usize],
        code: u16,
    ) -> Outcome {
        let o = run(serve, name, script, pieces, false);
        assert!(o.result.is_ok(), "{name}: {:?}", o.result);
        let close = [&[0x88, 0x02][..], &code.to_be_bytes()].concat();
        assert_eq!(o.written, [ACCEPT, &close].concat(), "{name}");
        assert!(o.closed, "{name}: TCP not closed");
        o
    }

    /// Every scenario, with the peer's bytes in one piece, byte by byte,
    /// and in pieces of 1, 5 and 7 bytes.
    #[allow(dead_code)] // the doctest's; tests/no_std_notes.rs picks scenarios
    pub fn check_all(serve: fn(&mut NoMasks) -> Result<(), Error>) {
        check(serve, &[]);
    }

    /// The scenarios named in `only` (all, if it is empty).
    pub fn check(serve: fn(&mut NoMasks) -> Result<(), Error>, only: &[&str]) {
        let wanted = |name: &str| only.is_empty() || only.contains(&name);
        for pieces in [&[usize::MAX][..], &[1], &[1, 5, 7], &[7, 5]] {
            check_pieces(serve, pieces, &wanted);
        }
    }

    fn check_pieces(
        serve: fn(&mut NoMasks) -> Result<(), Error>,
        pieces: &[usize],
        wanted: &dyn Fn(&str) -> bool,
    ) {
        if wanted("clean close") {
            // (1) A text in two fragments with a ping between them, then a
            // Close 1000: the pong, the echoed Close, then our FIN (§7.1.1).
            let script = [
                REQUEST,
                &masked(0x01, b"Hel"),
                &masked(0x89, b"hi"),
                &masked(0x80, b"lo"),
                &masked(0x88, &[0x03, 0xe8]),
            ]
            .concat();
            let o = run(serve, "clean close", &script, pieces, false);
            assert!(o.result.is_ok(), "clean close: {:?}", o.result);
            let expected = [ACCEPT, &[0x8a, 0x02, b'h', b'i'], &[0x88, 0x02, 0x03, 0xe8]].concat();
            assert_eq!(o.written, expected, "clean close: what the server wrote");
            assert_eq!(o.messages, [b"Hello".to_vec()], "clean close: the message");
            assert!(o.closed, "clean close: TCP not closed");
        }

        if wanted("unmasked frame") {
            // (2) An unmasked frame (§5.1: a server MUST close the connection on
            // an unmasked frame): Close 1002 goes out, then our FIN.
            let script = [REQUEST, &[0x81, 0x02, b'h', b'i']].concat();
            let o = violation(serve, "unmasked frame", &script, pieces, 0x03ea);
            assert!(
                o.messages.is_empty() && o.unfinished.is_empty(),
                "unmasked frame: data handled"
            );
        }

        if wanted("invalid UTF-8") {
            // (3) Invalid UTF-8 cut across two fragments (§8.1: text is UTF-8;
            // E2 82 must be followed by a continuation byte, not 28): 1007.
            let script = [
                REQUEST,
                &masked(0x01, &[b'a', 0xe2, 0x82]),
                &masked(0x80, &[0x28]),
            ]
            .concat();
            let o = violation(serve, "invalid UTF-8", &script, pieces, 0x03ef);
            assert_eq!(
                o.unfinished,
                [b'a', 0xe2, 0x82],
                "invalid UTF-8: the valid piece"
            );
        }

        if wanted("message too big") {
            // (4) A frame over the 64 KiB message limit (§10.4): refused at its
            // length field with 1009, before its mask key and payload are read.
            let script = [
                REQUEST,
                &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 1],
                &[0x37, 0xfa, 0x21, 0x3d, 1, 2, 3],
            ]
            .concat();
            violation(serve, "message too big", &script, pieces, 0x03f1);
        }

        if wanted("version 8") {
            // (5) A handshake for version 8 (§4.4: answer 426 naming the
            // versions this server speaks).
            let script = REQUEST.to_vec();
            let at = script
                .windows(4)
                .position(|w| w == b": 13")
                .expect("the version")
                + 2;
            let script = [&script[..at], b"8", &script[at + 2..]].concat();
            let o = run(serve, "version 8", &script, pieces, false);
            assert!(
                matches!(o.result, Err(Error::UnsupportedWebSocketVersion)),
                "version 8: {:?}",
                o.result
            );
            let body = Error::UnsupportedWebSocketVersion.to_string();
            let expected = format!(
                "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\
                 Upgrade: websocket\r\nContent-Type: text/plain; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: Upgrade, close\r\n\r\n{body}\n",
                body.len() + 1
            );
            assert_eq!(
                String::from_utf8_lossy(&o.written),
                expected,
                "version 8: the refusal"
            );
            assert!(o.closed, "version 8: TCP not closed");
        }

        if wanted("peer ends TCP") {
            // (6) The peer ends TCP in the middle of a message, without a
            // Close (1006): nothing more is written, and our side closes too.
            let script = [REQUEST, &masked(0x01, b"half")].concat();
            let o = run(serve, "peer ends TCP", &script, pieces, true);
            assert!(o.result.is_ok(), "peer ends TCP: {:?}", o.result);
            assert_eq!(o.written, ACCEPT, "peer ends TCP: what the server wrote");
            assert_eq!(o.unfinished, b"half", "peer ends TCP: the piece");
            assert!(o.closed, "peer ends TCP: TCP not closed");
        }

        if wanted("peer leaves early") {
            // The peer ends TCP during the handshake: nothing is written.
            let o = run(serve, "peer leaves early", &REQUEST[..40], pieces, true);
            assert!(o.result.is_ok(), "peer leaves early: {:?}", o.result);
            assert!(
                o.written.is_empty(),
                "peer leaves early: wrote {:?}",
                o.written
            );
            assert!(o.closed, "peer leaves early: TCP not closed");
        }
    }
}
