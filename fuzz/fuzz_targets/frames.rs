//! Frames after the handshake (RFC 6455 §5, §7): arbitrary bytes into
//! `protocol::Connection::receive`, in either role, whole and through a
//! small caller buffer filled in arbitrary chunks.
//!
//! Input: `[flags, chunk seed, limits, stream...]`; `flags` bit 0 is the
//! role (0 server, 1 client), bits 1–7 the caller's buffer size (1–64).
//! `limits` sets small frame and message limits (0xFF: the defaults).
//! Checks, beyond "no panic":
//! * `consumed` never exceeds what was given, a data piece is the last bytes
//!   consumed, and a caller with a full buffer always gets progress;
//! * whole and chunked runs see the same messages (pieces reassembled), the
//!   same control events, send the same control frames and end the same way;
//! * a text message delivered whole is valid UTF-8;
//! * after an error, `take_pending` gives at most one frame, a Close whose
//!   code is `error.close_code()`, and `receive` then says `ConnectionClosed`;
//! * a frame header that parses is emitted back to the same bytes.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::FixedRng;
use libfuzzer_sys::fuzz_target;
use wslite::frame::{self, FrameHeader, OpCode};
use wslite::protocol::{Connection, DataKind, Event, Limits, Role, State};
use wslite::Error;

#[derive(Debug, PartialEq, Eq)]
enum Item {
    Message(DataKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
    /// A control frame `take_pending` handed out: opcode and payload.
    Sent(u8, Vec<u8>),
    Error(String),
    /// `receive` said the connection is over.
    Closed,
}

struct Log {
    items: Vec<Item>,
    /// The message being reassembled.
    partial: Option<(DataKind, Vec<u8>)>,
}

/// Unmasks and splits a control frame the connection wants sent.
fn decode_control(bytes: &[u8], role: Role) -> (u8, Vec<u8>) {
    let (header, n) = FrameHeader::parse(bytes)
        .expect("our own frame parses")
        .expect("our own frame is whole");
    assert!(header.fin && header.rsv == 0 && header.opcode.is_control());
    assert_eq!(
        header.mask.is_some(),
        role == Role::Client,
        "masking by role"
    );
    let mut payload = bytes[n..].to_vec();
    assert_eq!(payload.len() as u64, header.payload_len);
    if let Some(key) = header.mask {
        frame::apply_mask(&mut payload, key, 0);
    }
    (header.opcode as u8, payload)
}

fn drain_pending(conn: &mut Connection, rng: &mut FixedRng, log: &mut Log) -> Vec<(u8, Vec<u8>)> {
    let mut sent = Vec::new();
    for _ in 0..4 {
        let Some(frame) = conn.take_pending(rng) else {
            return sent;
        };
        let (opcode, payload) = decode_control(frame.as_bytes(), conn.role());
        log.items.push(Item::Sent(opcode, payload.clone()));
        sent.push((opcode, payload));
    }
    panic!("take_pending did not run dry");
}

/// Records one `receive` result.
fn record(result: Result<(usize, Option<Event<'_>>), Error>, log: &mut Log) -> Result<(), Error> {
    let (_, event) = result?;
    match event {
        None => {}
        Some(Event::Data { kind, bytes, fin, .. }) => {
            let (k, buf) = log.partial.get_or_insert_with(|| (kind, Vec::new()));
            assert_eq!(*k, kind, "the kind changed inside a message");
            buf.extend_from_slice(bytes);
            if fin {
                let (kind, bytes) = log.partial.take().unwrap();
                if kind == DataKind::Text {
                    assert!(
                        std::str::from_utf8(&bytes).is_ok(),
                        "invalid text delivered"
                    );
                }
                log.items.push(Item::Message(kind, bytes));
            }
        }
        Some(Event::Ping(p)) => {
            assert!(p.len() <= 125);
            log.items.push(Item::Ping(p.to_vec()));
        }
        Some(Event::Pong(p)) => {
            assert!(p.len() <= 125);
            log.items.push(Item::Pong(p.to_vec()));
        }
        Some(Event::Close(frame)) => {
            log.items
                .push(Item::Close(frame.map(|f| (f.code.0, f.reason.to_string()))));
        }
    }
    Ok(())
}

/// After an error: the queued Close (if any) names it, then the connection
/// is closed for good.
fn after_error(
    conn: &mut Connection,
    error: &Error,
    state_before: State,
    rng: &mut FixedRng,
    log: &mut Log,
) {
    let code = error.close_code();
    assert!(
        code.is_some(),
        "a receive error without a close code: {error:?}"
    );
    log.items.push(Item::Error(format!("{error:?}")));
    let sent = drain_pending(conn, rng, log);
    assert!(
        sent.len() <= 1,
        "more than one frame after {error:?}: {sent:?}"
    );
    if let Some((opcode, payload)) = sent.first() {
        assert_eq!(*opcode, OpCode::Close as u8, "{error:?} queued {opcode:#x}");
        let code = code.unwrap().0.to_be_bytes();
        assert_eq!(payload.as_slice(), &code[..], "close code for {error:?}");
    } else {
        // Nothing to send only when our Close had gone out already.
        assert!(
            matches!(state_before, State::CloseSent | State::Closed),
            "no Close queued for {error:?} in {state_before:?}"
        );
    }
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.is_closed());
    let mut more = [0x81u8, 0x80, 0, 0, 0, 0];
    assert!(matches!(
        conn.receive(&mut more),
        Err(Error::ConnectionClosed)
    ));
}

/// One call to `receive` on `input`, checked and logged: it never consumes
/// more than it was given, and a data event's bytes are the last bytes it
/// consumed. `None` once the connection has ended (closed, or failed with
/// its Close checked by [`after_error`]); otherwise the bytes consumed and
/// whether an event came.
fn receive_once(
    conn: &mut Connection,
    input: &mut [u8],
    rng: &mut FixedRng,
    log: &mut Log,
) -> Option<(usize, bool)> {
    let state_before = conn.state();
    let given = input.len();
    let base = input.as_ptr() as usize;
    let result = conn.receive(input).map(|r| {
        assert!(r.consumed <= given, "consumed {} of {given}", r.consumed);
        if let Some(Event::Data { bytes, .. }) = &r.event {
            assert_eq!(
                bytes.as_ptr() as usize + bytes.len(),
                base + r.consumed,
                "piece position"
            );
        }
        (r.consumed, r.event)
    });
    let consumed = result.as_ref().map(|r| r.0).unwrap_or(0);
    let had_event = result.as_ref().map(|r| r.1.is_some()).unwrap_or(false);
    match record(result, log) {
        Ok(_) => {}
        Err(Error::ConnectionClosed) => {
            log.items.push(Item::Closed);
            return None;
        }
        Err(error) => {
            after_error(conn, &error, state_before, rng, log);
            return None;
        }
    }
    drain_pending(conn, rng, log);
    Some((consumed, had_event))
}

/// Feeds the whole stream as one buffer.
fn run_whole(stream: &[u8], role: Role, limits: Limits) -> Log {
    let mut conn = Connection::new(role, limits);
    let mut rng = FixedRng(7);
    let mut log = Log {
        items: Vec::new(),
        partial: None,
    };
    let mut buf = stream.to_vec();
    let mut pos = 0;
    // Each step consumes a byte or yields an event; events need bytes too,
    // except that an empty frame yields one after its header. Bounded anyway.
    for _ in 0..4 * stream.len() + 16 {
        // Events always come with bytes consumed: nothing to do on none.
        if pos == buf.len() {
            return log;
        }
        let Some((consumed, had_event)) =
            receive_once(&mut conn, &mut buf[pos..], &mut rng, &mut log)
        else {
            return log;
        };
        pos += consumed;
        if consumed == 0 && !had_event {
            return log;
        }
    }
    panic!("no end after {} steps", 4 * stream.len() + 16);
}

/// Feeds the stream through a `cap`-byte buffer, reading chunks of the
/// sizes `chunks` gives, as a caller on a small device would.
fn run_chunked(stream: &[u8], role: Role, limits: Limits, cap: usize, seed: u8) -> Log {
    let mut conn = Connection::new(role, limits);
    let mut rng = FixedRng(7);
    let mut log = Log {
        items: Vec::new(),
        partial: None,
    };
    let mut chunks = common::Chunks::new(&[seed, cap as u8], 2 * cap);
    let mut buf = vec![0u8; cap];
    let (mut start, mut end, mut input) = (0usize, 0usize, 0usize);
    for _ in 0..8 * stream.len() + 16 {
        if start < end {
            let Some((consumed, had_event)) =
                receive_once(&mut conn, &mut buf[start..end], &mut rng, &mut log)
            else {
                return log;
            };
            start += consumed;
            if consumed > 0 || had_event {
                continue;
            }
        }
        // Read more: compact, then fill part of the free room.
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
        assert!(
            end < cap,
            "the core made no progress on a full {cap}-byte buffer"
        );
        if input == stream.len() {
            return log;
        }
        let n = chunks.next_size().min(cap - end).min(stream.len() - input);
        buf[end..end + n].copy_from_slice(&stream[input..input + n]);
        end += n;
        input += n;
    }
    panic!("no end after {} steps", 8 * stream.len() + 16);
}

fuzz_target!(|data: &[u8]| {
    let [flags, seed, limit_bits, ref stream @ ..] = *data else {
        return;
    };
    let role = if flags & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let cap = 1 + usize::from(flags >> 1) % 64;
    let limits = if limit_bits == 0xFF {
        Limits::default()
    } else {
        Limits::default()
            .max_frame_size(u64::from(limit_bits & 0x0F) * 16)
            .max_message_size(u64::from(limit_bits >> 4) * 64)
    };

    // A header that parses is emitted back byte for byte (lengths are
    // minimal, so the encoding is unique).
    if let Ok(Some((header, n))) = FrameHeader::parse(stream) {
        let mut out = [0u8; frame::MAX_HEADER_LEN];
        assert_eq!(header.emit(&mut out).unwrap(), n);
        assert_eq!(&out[..n], &stream[..n]);
        assert_eq!(header.encoded_len(), n);
    }

    let mut whole = run_whole(stream, role, limits);
    let mut chunked = run_chunked(stream, role, limits, cap, seed);
    let failed = whole.items.iter().any(|i| matches!(i, Item::Error(_)));
    if failed {
        // The message cut by the error may have been delivered further in
        // pieces than whole (UTF-8 fails at the frame, or at the chunk, that
        // holds the bad byte): only a common prefix is required.
        let a = whole.partial.take().map(|p| p.1).unwrap_or_default();
        let b = chunked.partial.take().map(|p| p.1).unwrap_or_default();
        let n = a.len().min(b.len());
        assert_eq!(a[..n], b[..n], "the cut message differs");
    }
    assert_eq!(
        whole.items, chunked.items,
        "whole vs chunked ({role:?}, cap {cap})"
    );
    assert_eq!(whole.partial, chunked.partial, "unfinished message");
});
