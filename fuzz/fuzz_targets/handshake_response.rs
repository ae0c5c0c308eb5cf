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
use wslite::handshake::{accept_key, Header, Response, ResponseParser, Status};

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
    let (limits, slots) = common::head_limits(max_headers, head_units);

    // Whole.
    let mut parser = ResponseParser::new(limits);
    let mut headers = vec![Header::EMPTY; slots];
    let whole = parser.parse(input, &mut headers);
    let whole_outcome = outcome(&whole);

    // In pieces: the buffer grows, the parser is called with all of it.
    let mut chunked_parser = ResponseParser::new(limits);
    let chunked_outcome = common::chunked_outcome(input, seed, |prefix| {
        let mut headers = vec![Header::EMPTY; slots];
        let result = chunked_parser.parse(prefix, &mut headers);
        (outcome(&result), matches!(result, Ok(Status::Partial)))
    });
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
