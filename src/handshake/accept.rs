//! The key and its answer: RFC 6455 §1.3, §4.1 (item 7) and §4.2.2 (item 5).
//!
//! What a reader learns here: the client sends 16 fresh random bytes, base64
//! encoded, as `Sec-WebSocket-Key`. The server appends the fixed [`GUID`],
//! hashes the result with SHA-1 and sends the base64 of the hash back as
//! `Sec-WebSocket-Accept`. Nothing secret is involved; the exchange only
//! proves the server read *this* request as a WebSocket handshake.
//!
//! ## Why version 13, and why a GUID
//!
//! **The version.** WebSocket went through many drafts before RFC 6455
//! (December 2011): Ian Hickson's `draft-hixie-thewebsocketprotocol-75` and
//! `-76`, then the IETF HyBi working group's
//! `draft-ietf-hybi-thewebsocketprotocol-00` to `-17`. Their wire formats
//! did not agree: hixie-75 and -76 sent no version header at all and put
//! each text message between a `0x00` and a `0xFF` byte, while the later
//! hybi drafts moved to the frame header of §5.2, with its masking. A
//! server must know which of them the bytes after the handshake follow
//! before it reads them, so the client names its protocol in
//! `Sec-WebSocket-Version`. The numbers are the draft numbers: the registry
//! of §11.6 gives 0 to 8 to drafts hybi-00 to -08 and 13 to RFC 6455, and
//! reserves 9 to 12: drafts -09 to -12 made "editorial changes and
//! clarifications and not changes to the wire protocol" (§4.1, item 9,
//! NOTE), and kept sending 8. Draft -13
//! sent 13, and drafts -14 to -17 and the RFC kept that number, since their
//! wire format did not change again. So the one value a client of the RFC
//! sends is 13 (§4.1, item 9: "The value of this header field MUST be 13").
//!
//! A server that does not speak the version it is asked for must say which
//! versions it does speak, so that the client can try again with one of
//! them (§4.2.2, item 4, /version/: send "an appropriate HTTP error code
//! (such as 426 Upgrade Required) and a |Sec-WebSocket-Version| header field
//! indicating the version(s) the server is capable of understanding"; §4.4
//! shows the retry). This crate speaks only 13:
//! [`Request::validate_upgrade`](super::Request::validate_upgrade) refuses
//! any other value, and a missing header, with
//! [`Error::UnsupportedWebSocketVersion`](crate::Error::UnsupportedWebSocketVersion),
//! whose [`http_status`](crate::Error::http_status) is 426, and
//! [`write_error_response`](super::write_error_response) writes that 426
//! with `Sec-WebSocket-Version: 13`.
//!
//! ```
//! use wslite::handshake::{self, Header, RequestParser, Status};
//! use wslite::Error;
//!
//! // A client of draft hybi-10, which said 8.
//! let request = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\
//!     Upgrade: websocket\r\nConnection: Upgrade\r\n\
//!     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
//! let mut headers = [Header::EMPTY; 16];
//! let mut parser = RequestParser::new(handshake::Limits::new());
//! let Status::Complete((_, request)) = parser.parse(request, &mut headers)? else {
//!     unreachable!("the whole request is there");
//! };
//! let err = request.validate_upgrade().unwrap_err();
//! assert!(matches!(err, Error::UnsupportedWebSocketVersion));
//! assert_eq!(err.http_status(), Some(426));
//! let mut answer = [0u8; 512];
//! let n = handshake::write_error_response(&mut answer, &err)?;
//! let answer = std::str::from_utf8(&answer[..n]).unwrap();
//! assert!(answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
//! assert!(answer.contains("\r\nSec-WebSocket-Version: 13\r\n"));
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! **The GUID.** §1.3 says why the server answers at all: it "has to prove to
//! the client that it received the client's WebSocket handshake, so that the
//! server doesn't accept connections that are not WebSocket connections". The
//! proof combines two things:
//!
//! * the key, new for every connection (§4.1, item 7: "The nonce MUST be
//!   selected randomly for each connection"), so that no answer recorded
//!   earlier matches: a cache that replays an old response, or a server
//!   that replays someone else's, gives the accept value of another key;
//! * the [`GUID`] `258EAFA5-E914-47DA-95CA-C5AB0DC85B11`, a fixed string
//!   (§1.3: one "unlikely to be used by network endpoints that do not
//!   understand the WebSocket Protocol"). A server that is not a WebSocket
//!   server, say one that echoes request headers back or hashes them for
//!   some purpose of its own, never appends exactly this string, so it
//!   cannot produce the right value by accident.
//!
//! It is not a secret, and it is no defence against a hostile WebSocket
//! server, which computes the value as easily as an honest one. That is why
//! SHA-1, long broken for collisions, is good enough here.
//!
//! Worked example, with the key of §1.3 (the base64 of the 16 bytes of
//! "the sample nonce"):
//!
//! 1. key: `dGhlIHNhbXBsZSBub25jZQ==` (24 characters, hashed as they
//!    are: §4.1 says the key is used "as a string, not base64-decoded");
//! 2. key + GUID:
//!    `dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11`
//!    (60 characters);
//! 3. SHA-1 of that: `b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be
//!    c4 ea` (20 bytes);
//! 4. base64 of the hash: `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=` (28 characters),
//!    the `Sec-WebSocket-Accept` value.
//!
//! You need not read [`sha1`] to follow the protocol: it is the
//! standard hash (FIPS 180-4), and the handshake is all it is used for. It is
//! an optional detour, like [`base64`].
//!
//! ```
//! use wslite::handshake::{accept_key, GUID};
//! use wslite::{base64, sha1};
//!
//! let key = b"dGhlIHNhbXBsZSBub25jZQ==";
//! let mut nonce = [0u8; 18];
//! let n = base64::decode(key, &mut nonce).unwrap();
//! assert_eq!(&nonce[..n], b"the sample nonce"); // 16 bytes
//!
//! let joined = [&key[..], GUID.as_bytes()].concat();
//! assert_eq!(joined, b"dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
//!
//! let hash = sha1::digest(&joined);
//! assert_eq!(hash, [
//!     0xb3, 0x7a, 0x4f, 0x2c, 0xc0, 0x62, 0x4f, 0x16, 0x90, 0xf6,
//!     0x46, 0x06, 0xcf, 0x38, 0x59, 0x45, 0xb2, 0xbe, 0xc4, 0xea,
//! ]);
//!
//! let mut accept = [0u8; 28];
//! assert_eq!(base64::encode(&hash, &mut accept), Some(28));
//! assert_eq!(&accept, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//! assert_eq!(accept_key(key), accept); // all of it in one call
//! ```

use super::GUID;
use crate::random::RandomSource;
use crate::{base64, sha1};

/// The length of a `Sec-WebSocket-Key`: 16 bytes in base64 (RFC 6455 §4.1).
pub const KEY_LEN: usize = 24;

/// The length of a `Sec-WebSocket-Accept`: a 20-byte SHA-1 in base64.
pub const ACCEPT_LEN: usize = 28;

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` value:
/// `base64(SHA-1(key ++ GUID))` (RFC 6455 §4.2.2, item 5, sub-item 4).
///
/// The key is hashed exactly as received, as the RFC says: a server does not
/// decode it first.
pub fn accept_key(key: &[u8]) -> [u8; ACCEPT_LEN] {
    let mut hash = sha1::Sha1::new();
    hash.update(key);
    hash.update(GUID.as_bytes());
    let digest = hash.finish();
    let mut out = [0u8; ACCEPT_LEN];
    // 20 bytes always encode to exactly 28 characters, so this cannot fail;
    // the length check is kept anyway rather than an unwrap.
    let _ = base64::encode(&digest, &mut out);
    out
}

/// A fresh `Sec-WebSocket-Key`: 16 bytes from `rng`, base64 encoded
/// (RFC 6455 §4.1, item 7). The key must be new for every handshake, so
/// that an old answer from a cache can never match.
pub fn generate_key<R: RandomSource + ?Sized>(rng: &mut R) -> [u8; KEY_LEN] {
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    let mut key = [0u8; KEY_LEN];
    // 16 bytes always encode to exactly 24 characters.
    let _ = base64::encode(&nonce, &mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_section_1_3_sample() {
        assert_eq!(
            &accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    struct Counter(u8);
    impl RandomSource for Counter {
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
        }
    }

    #[test]
    fn generated_key_is_base64_of_16_bytes() {
        let key = generate_key(&mut Counter(0));
        let mut decoded = [0u8; 18];
        assert_eq!(base64::decode(&key, &mut decoded), Ok(16));
        assert_eq!(
            &decoded[..16],
            &core::array::from_fn::<u8, 16, _>(|i| i as u8)
        );
        // A second key from the same source differs.
        let mut rng = Counter(0);
        assert_ne!(generate_key(&mut rng), generate_key(&mut rng));
    }
}
