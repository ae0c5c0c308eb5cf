//! The server's view of the opening handshake (RFC 6455 §4.2.1): arbitrary
//! bytes into `RequestParser`, whole and in arbitrary chunks.
//!
//! Input: `[max_headers, max_head_bytes / 32, chunk seed, request...]`.
//! Checks, beyond "no panic":
//! * fed whole or as a growing buffer in pieces, the parser gives the same
//!   answer (partial, the same head length and request, or the same error);
//! * every accessor of a complete request and `validate_upgrade` are total;
//! * a valid request can always be accepted, and the `101` written for it
//!   parses back (as a client would) and verifies against the same key;
//! * every refusal is written, and parses back with the error's status.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wslite::handshake::{
    accept_response_len, write_accept_response, write_error_response, Header, Limits,
    RequestParser, ResponseParser, Status,
};

/// The parser's answer, owned, so two runs can be compared.
fn outcome(
    result: &Result<Status<(usize, wslite::handshake::Request<'_, '_>)>, wslite::Error>,
) -> String {
    match result {
        Ok(Status::Partial) => "partial".to_string(),
        Ok(Status::Complete((len, request))) => format!("complete {len} {request:?}"),
        Err(error) => format!("error {error:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let [max_headers, head_units, seed, ref input @ ..] = *data else {
        return;
    };
    let (limits, slots) = common::head_limits(max_headers, head_units);

    // Whole.
    let mut parser = RequestParser::new(limits);
    let mut headers = vec![Header::EMPTY; slots];
    let whole = parser.parse(input, &mut headers);
    let whole_outcome = outcome(&whole);

    // In pieces: the buffer grows, the parser is called with all of it.
    let mut chunked_parser = RequestParser::new(limits);
    let chunked_outcome = common::chunked_outcome(input, seed, |prefix| {
        let mut headers = vec![Header::EMPTY; slots];
        let result = chunked_parser.parse(prefix, &mut headers);
        (outcome(&result), matches!(result, Ok(Status::Partial)))
    });
    assert_eq!(whole_outcome, chunked_outcome, "whole vs chunked");

    let request = match whole {
        Ok(Status::Complete((len, request))) => {
            assert!(len <= input.len() && len <= limits.max_head_bytes);
            assert!(input[..len].ends_with(b"\r\n\r\n"));
            assert!(request.headers().len() <= limits.max_headers.min(slots));
            request
        }
        Ok(Status::Partial) => {
            assert!(input.len() < limits.max_head_bytes);
            return;
        }
        Err(error) => {
            // A refusal can always be written, and reads back with its status.
            let mut out = [0u8; 1024];
            let n = write_error_response(&mut out, &error).expect("a refusal fits in 1 KiB");
            let mut parser = ResponseParser::new(Limits::new());
            let mut headers = [Header::EMPTY; 16];
            let Ok(Status::Complete((_, response))) = parser.parse(&out[..n], &mut headers) else {
                panic!(
                    "our own refusal does not parse: {:?}",
                    String::from_utf8_lossy(&out[..n])
                );
            };
            assert_eq!(Some(response.status()), error.http_status().or(Some(500)));
            return;
        }
    };

    // Every accessor is total.
    let _ = (
        request.method(),
        request.target(),
        request.path(),
        request.query(),
    );
    let _ = (request.version(), request.is_websocket_upgrade());
    let _ = request.header("Sec-WebSocket-Key");
    let protocols: Vec<&str> = request.protocols().collect();
    let _ = request.extensions().count();

    let key = match request.validate_upgrade() {
        Ok(key) => key,
        Err(error) => {
            assert!(error.http_status().is_some(), "no status for {error:?}");
            return;
        }
    };
    // Accept, choosing the first offered subprotocol (a token by
    // construction), and read the answer back as the client would.
    let chosen = protocols.first().copied();
    // Sized as the std layer sizes it: a long subprotocol must still fit.
    let mut out = vec![0u8; accept_response_len(chosen, &[])];
    let n = write_accept_response(&mut out, &key, chosen, &[]).expect("101 is writable");
    assert_eq!(n, out.len());
    let mut parser = ResponseParser::new(Limits::new());
    let mut headers = [Header::EMPTY; 16];
    let Ok(Status::Complete((len, response))) = parser.parse(&out[..n], &mut headers) else {
        panic!("our own 101 does not parse");
    };
    assert_eq!(len, n);
    assert_eq!(response.status(), 101);
    let accepted = response
        .verify(key.as_bytes(), &protocols, &[])
        .expect("our own 101 verifies");
    assert_eq!(accepted.protocol, chosen);
});
