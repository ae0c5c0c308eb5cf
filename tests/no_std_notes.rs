//! The scripted peer that runs the server loop of `no_std_notes.md` (in a
//! doctest: `tests/notes/peer.rs`) is itself checked here: the loop as the
//! notes had it before fails it, and so does the older one that left on an
//! error before `take_pending`, each at once with a message that names the
//! scenario, instead of hanging.

include!("notes/peer.rs");

use std::panic;
use wslite::handshake::{self, Header, RequestParser, Status};
use wslite::protocol::{Connection, EndOfTcp, Event, Limits, Role};
use wslite::{Error, RandomSource};

/// The server loop of `no_std_notes.md` before it was made a doctest, made
/// a function and otherwise as it was. Its 256 bytes cannot hold the 426
/// refusal (292 bytes), which `unwrap_or(0)` then drops; and it never ends
/// when the peer ends TCP, a read of 0 bytes being taken for "nothing yet".
#[allow(unreachable_code, clippy::diverging_sub_expression)]
fn previous_serve(rng: &mut impl RandomSource) -> Result<(), Error> {
    // 1. The handshake: collect the request, check it, answer 101.
    let mut buf = [0u8; 512];
    let mut filled = 0;
    let mut parser = RequestParser::new(handshake::Limits::new().with_max_head_bytes(buf.len()));
    let (key, head_len) = loop {
        filled += socket_read(&mut buf[filled..])?; // your stack's read
        let mut headers = [Header::EMPTY; 16];
        match parser.parse(&buf[..filled], &mut headers) {
            Ok(Status::Complete((len, request))) => match request.validate_upgrade() {
                Ok(key) => break (key, len),
                Err(e) => {
                    // 400, 426, …
                    let mut out = [0u8; 256];
                    let n = handshake::write_error_response(&mut out, &e).unwrap_or(0);
                    socket_write(&out[..n])?;
                    return Err(e);
                }
            },
            Ok(Status::Partial) => {} // read more
            Err(e) => return Err(e),  // 431 past the limits
        }
    };
    let mut out = [0u8; 160];
    let n = handshake::write_accept_response(&mut out, &key, None, &[])?;
    socket_write(&out[..n])?;
    buf.copy_within(head_len..filled, 0); // early frames, if any
    filled -= head_len;

    // 2. Frames.
    let mut conn = Connection::new(Role::Server, Limits::default().max_message_size(64 * 1024));
    loop {
        let mut start = 0;
        let failed = loop {
            // One step: at most one event; `done` means "read more" (or failed).
            let (used, done, failed) = match conn.receive(&mut buf[start..filled]) {
                Ok(received) => {
                    let used = received.consumed;
                    let done = used == 0 && received.event.is_none();
                    if let Some(Event::Data {
                        kind, bytes, fin, ..
                    }) = received.event
                    {
                        // Ping, pong, close: answered through take_pending.
                        handle(kind, bytes, fin);
                    }
                    (used, done, false)
                }
                // A rule was broken: the Close that names it (1002, 1007, 1009)
                // is now owed, and must still go out, below.
                Err(_) => (0, true, true),
            };
            start += used;
            // What the connection owes the peer: the automatic pong, the answer
            // to the peer's Close, or the Close that names a violation.
            while let Some(frame) = conn.take_pending(rng) {
                socket_write(frame.as_bytes())?;
            }
            if done {
                break failed;
            }
        };
        // §7.1.1: once the Close frames are exchanged the server closes TCP
        // first; after a violation, whoever found it closes at once.
        match conn.end_of_tcp() {
            EndOfTcp::Now => {
                socket_close(); // FIN after our last frame
                break;
            }
            EndOfTcp::AfterPeer => {
                // A client: wait a while for the server's FIN, then close.
                socket_close();
                break;
            }
            EndOfTcp::NotYet if failed => unreachable!("a failure owes nothing once sent"),
            EndOfTcp::NotYet => {}
        }
        buf.copy_within(start..filled, 0); // keep the unused tail
        filled -= start;
        filled += socket_read(&mut buf[filled..])?;
    }
    Ok(())
}

/// The older loop: on an error it left the frame loop before
/// `take_pending`, so the Close naming the violation was never sent and
/// `end_of_tcp` stayed `NotYet`.
fn older_serve(rng: &mut impl RandomSource) -> Result<(), Error> {
    let mut buf = [0u8; 512];
    let mut filled = 0;
    let mut parser = RequestParser::new(handshake::Limits::new().with_max_head_bytes(buf.len()));
    let (key, head_len) = loop {
        filled += socket_read(&mut buf[filled..])?;
        let mut headers = [Header::EMPTY; 16];
        if let Status::Complete((len, request)) = parser.parse(&buf[..filled], &mut headers)? {
            break (request.validate_upgrade()?, len);
        }
    };
    let mut out = [0u8; 160];
    let n = handshake::write_accept_response(&mut out, &key, None, &[])?;
    socket_write(&out[..n])?;
    buf.copy_within(head_len..filled, 0);
    filled -= head_len;
    let mut conn = Connection::new(Role::Server, Limits::default().max_message_size(64 * 1024));
    loop {
        let mut start = 0;
        while let Ok(received) = conn.receive(&mut buf[start..filled]) {
            if received.consumed == 0 && received.event.is_none() {
                break;
            }
            start += received.consumed;
            if let Some(Event::Data {
                kind, bytes, fin, ..
            }) = received.event
            {
                handle(kind, bytes, fin);
            }
            while let Some(frame) = conn.take_pending(rng) {
                socket_write(frame.as_bytes())?;
            }
        }
        if conn.end_of_tcp() != EndOfTcp::NotYet {
            socket_close();
            return Ok(());
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        filled += socket_read(&mut buf[filled..])?;
    }
}

/// Runs the scenarios named in `only` (all, if empty) on `serve` and
/// returns the message they failed with.
fn failure(serve: fn(&mut peer::NoMasks) -> Result<(), Error>, only: &[&str]) -> String {
    let payload = panic::catch_unwind(|| peer::check(serve, only))
        .expect_err("the scenarios passed a loop that is known to be wrong");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast::<&str>()
            .map_or_else(|_| "(no message)".to_owned(), |m| m.to_string()),
    }
}

#[test]
fn the_previous_loop_sends_no_426() {
    let message = failure(previous_serve, &[]);
    assert!(
        message.starts_with("assertion `left == right` failed: version 8: the refusal"),
        "{message}"
    );
}

#[test]
fn the_previous_loop_does_not_end_when_the_peer_ends_tcp() {
    let message = failure(previous_serve, &["peer ends TCP"]);
    assert!(
        message
            .starts_with("peer ends TCP: read again after the peer said everything and ended TCP"),
        "{message}"
    );
}

#[test]
fn the_older_loop_never_sends_the_close_a_violation_owes() {
    let message = failure(older_serve, &[]);
    assert!(
        message.starts_with(
            "unmasked frame: read again after the peer said everything: the loop did not end"
        ),
        "{message}"
    );
}
