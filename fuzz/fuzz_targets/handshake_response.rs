//! The client's view of the opening handshake (RFC 6455 §4.1): arbitrary
//! bytes into `ResponseParser` and `Response::verify`, whole and in pieces.
//!
//! Input: `[max_headers, max_head_bytes / 32, chunk seed, response...]`.
//! The client is taken to have sent the key of RFC 6455 §1.3 and offered
//! the subprotocols `chat`, `superchat` and the extension
//! `permessage-deflate`. Checks, beyond "no panic":
//! * whole and chunked parsing agree;
//! * `verify` accepts only a 101 over HTTP/1.1+ whose accept value is the
//!   key's, and whose chosen subprotocol is one offered.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wslite::handshake::{accept_key, Header, Limits, Response, ResponseParser, Status};

const KEY: &[u8; 24] = b"dGhlIHNhbXBsZSBub25jZQ==";
const PROTOCOLS: &[&str] = &["chat", "superchat"];
const EXTENSIONS: &[&str] = &["permessage-deflate; client_max_window_bits"];

fn outcome(result: &Result<Status<(usize, Response<'_, '_>)>, wslite::Error>) -> String {
    match result {
        Ok(Status::Partial) => "partial".to_string(),
        Ok(Status::Complete((len, response))) => format!("complete {len} {response:?}"),
        Err(error) => format!("error {error:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let [max_headers, head_units, seed, ref input @ ..] = *data else {
        return;
    };
    let limits = Limits::new()
        .with_max_headers(usize::from(max_headers % 48))
        .with_max_head_bytes(16 + usize::from(head_units) * 32);
    let slots = if max_headers & 0x80 != 0 { 8 } else { 40 };

    let mut parser = ResponseParser::new(limits);
    let mut headers = vec![Header::EMPTY; slots];
    let whole = parser.parse(input, &mut headers);
    let whole_outcome = outcome(&whole);

    let mut chunked_parser = ResponseParser::new(limits);
    let mut chunked_outcome = "partial".to_string();
    for end in common::Chunks::new(&[seed], 64).ends(input.len()) {
        let mut headers = vec![Header::EMPTY; slots];
        let result = chunked_parser.parse(&input[..end], &mut headers);
        chunked_outcome = outcome(&result);
        if !matches!(result, Ok(Status::Partial)) {
            break;
        }
    }
    assert_eq!(whole_outcome, chunked_outcome, "whole vs chunked");

    let Ok(Status::Complete((len, response))) = whole else {
        return;
    };
    assert!(len <= input.len() && len <= limits.max_head_bytes);
    let _ = (response.reason(), response.version(), response.headers());
    let _ = response.extensions().count();

    match response.verify(KEY, PROTOCOLS, EXTENSIONS) {
        Ok(accepted) => {
            assert_eq!(response.status(), 101);
            assert!(response.version() >= (1, 1));
            let accept = response
                .header("Sec-WebSocket-Accept")
                .expect("an accept value");
            assert_eq!(accept, accept_key(KEY));
            if let Some(protocol) = accepted.protocol {
                assert!(
                    PROTOCOLS.contains(&protocol),
                    "{protocol:?} was not offered"
                );
            }
        }
        Err(error) => {
            // A failure to verify is never reported as success in disguise,
            // and never as a frame-level error.
            assert!(error.close_code().is_none(), "{error:?}");
        }
    }
    // Offered nothing: a chosen subprotocol or extension must then fail.
    if response.verify(KEY, &[], &[]).is_ok() {
        assert!(response.header("Sec-WebSocket-Protocol").is_none());
        assert_eq!(response.extensions().count(), 0);
    }
});
