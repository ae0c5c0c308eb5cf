//! Close codes and close reasons (RFC 6455 §5.5.1, §7.4).
//!
//! A close frame may carry a payload: a 2-byte status code (network byte
//! order), then a reason of at most 123 bytes of UTF-8 (125, the control-frame
//! limit of §5.5, minus the code). What a reader learns here is which codes
//! exist and who may use them:
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
