//! Close codes and close reasons (RFC 6455 §5.5.1, §7.4).
//!
//! A close frame may carry a payload: a 2-byte status code (network byte
//! order), then a reason of at most 123 bytes of UTF-8 (125, the control-frame
//! limit of §5.5, minus the code). What a reader learns here is which codes
//! exist and who may use them. "On the wire" says whether an endpoint may
//! put the code in a Close frame it sends; "local only" codes are names a
//! program uses to *report* what it saw, never sent:
//!
//! | codes       | meaning                                             | on the wire? |
//! |-------------|-----------------------------------------------------|--------------|
//! | 0–999       | not used                                            | never        |
//! | 1000–1003   | normal, going away, protocol error, unsupported data| yes          |
//! | 1004        | reserved                                            | never        |
//! | 1005, 1006  | "no code received", "closed abnormally": local only | never        |
//! | 1007–1011   | invalid payload, policy, too big, extension, server error | yes    |
//! | 1012–1014   | service restart, try again later, bad gateway (IANA registry) | yes |
//! | 1015        | TLS handshake failure: local only                   | never        |
//! | 1016–2999   | reserved for future RFCs                            | never        |
//! | 3000–3999   | registered with IANA for libraries and frameworks   | yes          |
//! | 4000–4999   | private use by applications                         | yes          |
//! | 5000+       | not defined                                         | never        |
//!
//! A received close frame carrying a code that may "never" appear on the wire
//! is a protocol error (close 1002), and a reason that is not UTF-8 is invalid
//! payload data (close 1007).
//!
//! "Close 1002" is short for *failing the connection* with that code. §7.1.7
//! ("Fail the WebSocket Connection") has the endpoint that found the broken
//! rule send a Close whose code names it ("SHOULD send a Close frame with an
//! appropriate status code"), then close the TCP connection, reading nothing
//! more of what the peer sends ("MUST NOT continue to attempt to process
//! data"). In this crate the connection queues that Close and stops; the
//! caller sends it and ends TCP ([`protocol`](crate::protocol) shows how).
//!
//! ## Why 1005, 1006 and 1015 never go on the wire
//!
//! §7.4.1 says of each of the three that it "is a reserved value and MUST NOT
//! be set as a status code in a Close control frame by an endpoint". They
//! exist for APIs that must report *some* code when a connection ends, and
//! each names something the local side observed:
//!
//! * **1005, no status received**: a Close arrived with an empty payload
//!   (§7.1.5: "If this Close control frame contains no status code, _The
//!   WebSocket Connection Close Code_ is considered to be 1005").
//! * **1006, abnormal closure**: the TCP connection ended and no Close
//!   arrived at all (§7.1.5: "no Close control frame was received by the
//!   endpoint (such as could occur if the underlying transport connection is
//!   lost)").
//! * **1015, TLS handshake**: TLS failed before the WebSocket handshake could
//!   begin (§7.4.1: "e.g., the server certificate can't be verified").
//!
//! There is no moment at which a peer could truthfully send one. A Close that
//! carries 1005 carries a code, so it is not a Close without one. A Close
//! that carries 1006 has arrived, so the connection did not end without a
//! Close. And a connection whose TLS failed carries no frames at all. A peer
//! that sends one of them is broken, and this crate fails the connection
//! with 1002 ([`Error::InvalidCloseCode`]). It refuses to send them too:
//! [`check_payload`] gives [`Error::InvalidInput`].
//!
//! Worked example: a server receives a client's Close whose payload is
//! `03 ED`, which is 0x03ED = 1005. Masked with the key `37 fa 21 3d` (a
//! client's frame is always masked), the frame is
//! `88 82 37 fa 21 3d 34 17`: `88` is FIN + opcode 8 (Close), `82` the MASK
//! bit + length 2, then the key, then `03 ED` XOR `37 FA` = `34 17`.
//!
//! ```
//! use wslite::protocol::{Connection, Event, Limits, Role};
//! use wslite::{CloseCode, Error};
//! # struct NoMask;
//! # impl wslite::RandomSource for NoMask { fn fill_bytes(&mut self, _: &mut [u8]) {} }
//!
//! let mut server = Connection::new(Role::Server, Limits::default());
//! let err = server.receive(&mut [0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x34, 0x17]).unwrap_err();
//! assert!(matches!(err, Error::InvalidCloseCode { code: 1005 }));
//! assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
//! // The Close that fails the connection: Close, length 2, 0x03EA = 1002.
//! assert_eq!(server.take_pending(&mut NoMask).unwrap().as_bytes(), [0x88, 0x02, 0x03, 0xEA]);
//!
//! // 1006 (03 EE) and 1015 (03 F7) are refused the same way.
//! for (code, masked) in [(1006, [0x34, 0x14]), (1015, [0x34, 0x0D])] {
//!     let mut server = Connection::new(Role::Server, Limits::default());
//!     let mut frame = [0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, masked[0], masked[1]];
//!     let err = server.receive(&mut frame).unwrap_err();
//!     assert!(matches!(err, Error::InvalidCloseCode { code: c } if c == code));
//! }
//!
//! // What a Close without a code (the case 1005 names) really looks like:
//! // length 0. It is no error, and the answer is a Close without a code.
//! let mut server = Connection::new(Role::Server, Limits::default());
//! let mut empty_close = [0x88, 0x80, 0x37, 0xfa, 0x21, 0x3d];
//! let received = server.receive(&mut empty_close)?;
//! assert_eq!(received.event, Some(Event::Close(None)));
//! assert_eq!(server.take_pending(&mut NoMask).unwrap().as_bytes(), [0x88, 0x00]);
//!
//! // Nor will the crate send one of the three.
//! let mut client = Connection::new(Role::Client, Limits::default());
//! for code in [CloseCode::NO_STATUS_RECEIVED, CloseCode::ABNORMAL, CloseCode::TLS_HANDSHAKE] {
//!     assert!(matches!(client.encode_close(code, "", &mut NoMask), Err(Error::InvalidInput(_))));
//! }
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! What the blocking layer reports in each case (it never produces the codes
//! themselves, only what they stand for):
//!
//! * a Close without a code is read as
//!   [`Message::Close(None)`](crate::Message::Close), the `None` saying
//!   what 1005 says;
//! * a read that meets the end of the TCP stream while the connection is
//!   open (or while the peer's Close still waits for our answer) gives
//!   [`Error::AbnormalClosure`], what §7.1.5 calls 1006; once our own Close
//!   has gone out, the same end of the stream gives
//!   [`Error::ConnectionClosed`];
//! * TLS is not in this crate (the caller wraps the stream in a TLS crate of
//!   its choice), so a TLS failure is reported by that crate, before wslite
//!   reads a byte; [`CloseCode::TLS_HANDSHAKE`] is only there as a name.

use core::fmt;

use crate::error::{Error, Result};
use crate::utf8;

/// The longest close reason: 125 bytes of control payload minus the 2-byte
/// code (RFC 6455 §5.5.1).
pub const MAX_REASON_LEN: usize = 123;

/// A close status code (RFC 6455 §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a kind of data the endpoint cannot accept (e.g. binary only).
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present. Local only, never sent.
    pub const NO_STATUS_RECEIVED: CloseCode = CloseCode(1005);
    /// 1006: the connection closed without a close frame. Local only, never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a message's data was not consistent with its type (e.g. invalid
    /// UTF-8 in a text message).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: the message violates the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (IANA registry).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway got an invalid answer upstream (IANA registry).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: the TLS handshake failed. Local only, never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether this code may appear in a close frame on the wire, sent or
    /// received (RFC 6455 §7.4.1, §7.4.2 and the IANA registry of §11.7).
    pub const fn is_allowed_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// The registered name of the code, for logs and learners, or `None` for
    /// codes in the application ranges and unknown codes.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1005 => "no status received",
            1006 => "abnormal closure",
            1007 => "invalid payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension",
            1011 => "internal error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "TLS handshake",
            _ => return None,
        })
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The content of a close frame that carried a code: the code and a reason
/// that borrows the frame's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseFrame<'a> {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most [`MAX_REASON_LEN`] bytes, possibly empty.
    pub reason: &'a str,
}

/// Reads a received close payload (RFC 6455 §5.5.1): `Ok(None)` for an empty
/// payload, the code and reason otherwise.
///
/// A 1-byte payload and a code that may not appear on the wire are protocol
/// errors (1002); a reason that is not UTF-8 is invalid payload data (1007).
pub fn parse_payload(payload: &[u8]) -> Result<Option<CloseFrame<'_>>> {
    match payload {
        [] => Ok(None),
        [_] => Err(Error::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_allowed_on_wire() {
                return Err(Error::InvalidCloseCode { code: code.0 });
            }
            // The frame is at most 125 bytes (checked when its header was
            // read), so the reason is at most 123 here.
            let reason = utf8::validate(reason)?;
            Ok(Some(CloseFrame { code, reason }))
        }
    }
}

/// Checks that a code and reason may be sent (the code is allowed on the wire,
/// the reason fits in 123 bytes) and writes the close payload into `out`,
/// returning its length.
pub fn write_payload(code: CloseCode, reason: &str, out: &mut [u8; 125]) -> Result<usize> {
    check_payload(code, reason)?;
    let (code_bytes, rest) = out.split_at_mut(2);
    code_bytes.copy_from_slice(&code.0.to_be_bytes());
    // The reason fits: it is at most 123 bytes (checked just above).
    for (dst, &src) in rest.iter_mut().zip(reason.as_bytes()) {
        *dst = src;
    }
    Ok(2 + reason.len())
}

/// Checks that a code and reason may be sent: the code is allowed on the
/// wire and the reason fits in 123 bytes.
pub fn check_payload(code: CloseCode, reason: &str) -> Result<()> {
    if !code.is_allowed_on_wire() {
        return Err(Error::InvalidInput(
            "this close code may not be sent (RFC 6455 §7.4.1: 1005, 1006, 1015 and unassigned codes are local only)",
        ));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(Error::InvalidInput(
            "close reason longer than 123 bytes (RFC 6455 §5.5.1)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes() {
        for code in 0..=u16::MAX {
            let allowed = CloseCode(code).is_allowed_on_wire();
            let expected = matches!(code, 1000 | 1001 | 1002 | 1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(allowed, expected, "code {code}");
        }
    }

    #[test]
    fn parse_empty_and_full() {
        assert_eq!(parse_payload(&[]).unwrap(), None);
        let frame = parse_payload(b"\x03\xe8bye").unwrap().unwrap();
        assert_eq!(frame.code, CloseCode::NORMAL);
        assert_eq!(frame.reason, "bye");
    }

    #[test]
    fn parse_rejects_bad_payloads() {
        assert!(matches!(
            parse_payload(&[3]),
            Err(Error::InvalidClosePayload)
        ));
        for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            let err = parse_payload(&code.to_be_bytes()).unwrap_err();
            assert!(matches!(err, Error::InvalidCloseCode { code: c } if c == code));
            assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
        }
        let err = parse_payload(b"\x03\xe8\xff").unwrap_err();
        assert!(matches!(err, Error::InvalidUtf8));
        assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
    }

    #[test]
    fn write_checks_code_and_reason() {
        let mut out = [0u8; 125];
        let n = write_payload(CloseCode(4000), "done", &mut out).unwrap();
        assert_eq!(&out[..n], b"\x0f\xa0done");
        let long = core::str::from_utf8(&[b'x'; 124]).unwrap();
        assert!(write_payload(CloseCode::NORMAL, long, &mut out).is_err());
        assert!(write_payload(CloseCode::NORMAL, &long[..123], &mut out).is_ok());
        assert!(write_payload(CloseCode::ABNORMAL, "", &mut out).is_err());
    }

    #[test]
    fn registered_codes_have_their_names_and_others_have_none() {
        let registered = [
            (1000, "normal closure"),
            (1001, "going away"),
            (1002, "protocol error"),
            (1003, "unsupported data"),
            (1005, "no status received"),
            (1006, "abnormal closure"),
            (1007, "invalid payload data"),
            (1008, "policy violation"),
            (1009, "message too big"),
            (1010, "mandatory extension"),
            (1011, "internal error"),
            (1012, "service restart"),
            (1013, "try again later"),
            (1014, "bad gateway"),
            (1015, "TLS handshake"),
        ];
        for (code, name) in registered {
            assert_eq!(CloseCode(code).name(), Some(name), "{code}");
        }
        for code in [0, 999, 1004, 1016, 2999, 3000, 4999, 5000] {
            assert_eq!(CloseCode(code).name(), None, "{code}");
        }
    }

    #[test]
    fn a_code_displays_its_number_and_any_name() {
        use std::string::ToString;
        assert_eq!(
            CloseCode::MESSAGE_TOO_BIG.to_string(),
            "1009 (message too big)"
        );
        assert_eq!(CloseCode(4000).to_string(), "4000");
        assert_eq!(u16::from(CloseCode::from(4321)), 4321);
    }
}
