//! The opening handshake (RFC 6455 §4) end to end: the RFC's own samples,
//! a client/server round trip, every refusal, and properties over arbitrary
//! input.

use quickcheck::{quickcheck, TestResult};
use wslite::handshake::{
    accept_key, accept_response_len, write_accept_response, write_error_response,
    write_error_response_with, write_refusal, write_request, ClientKey, ClientRequest, Header,
    Limits, Request, RequestParser, ResponseParser, Status,
};
use wslite::Error;

/// The sample request of RFC 6455 §1.3.
const SAMPLE_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// The sample answer of RFC 6455 §1.3.
const SAMPLE_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\r\n";

const KEY: &[u8; 24] = b"dGhlIHNhbXBsZSBub25jZQ==";

/// Parses a complete request and runs `f` on it.
fn with_request<T>(buf: &[u8], f: impl FnOnce(usize, &Request<'_, '_>) -> T) -> Result<T, Error> {
    let mut headers = [Header::EMPTY; 64];
    match RequestParser::new(Limits::default()).parse(buf, &mut headers)? {
        Status::Complete((len, request)) => Ok(f(len, &request)),
        Status::Partial => panic!("request unexpectedly partial"),
    }
}

/// Parses and validates a complete request.
fn validate(buf: &[u8]) -> Result<ClientKey, Error> {
    with_request(buf, |_, r| r.validate_upgrade())?
}

/// A valid request with the line starting with `name:` replaced by `line`
/// (or removed if `line` is empty, or added if no line has that name).
fn request_with(name: &str, line: &str) -> Vec<u8> {
    let text = std::str::from_utf8(SAMPLE_REQUEST).unwrap();
    let mut out = String::new();
    let mut replaced = false;
    for l in text.split("\r\n").filter(|l| !l.is_empty()) {
        if l.to_ascii_lowercase()
            .starts_with(&name.to_ascii_lowercase())
        {
            if !replaced && !line.is_empty() {
                out.push_str(line);
                out.push_str("\r\n");
            }
            replaced = true;
        } else {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    if !replaced {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn status_of(err: &Error) -> u16 {
    err.http_status().unwrap()
}

fn written_error(err: &Error) -> String {
    let mut out = [0u8; 1024];
    let len = write_error_response(&mut out, err).unwrap();
    String::from_utf8(out[..len].to_vec()).unwrap()
}

// ----- The RFC's samples -----

#[test]
fn rfc_sample_request_parses_and_validates() {
    with_request(SAMPLE_REQUEST, |len, r| {
        assert_eq!(len, SAMPLE_REQUEST.len());
        assert_eq!(r.method(), "GET");
        assert_eq!(r.target(), "/chat");
        assert_eq!(r.path(), "/chat");
        assert_eq!(r.query(), None);
        assert_eq!(r.version(), (1, 1));
        assert_eq!(r.host(), Some(&b"server.example.com"[..]));
        assert_eq!(r.origin(), Some(&b"http://example.com"[..]));
        assert_eq!(r.header("sec-websocket-version"), Some(&b"13"[..]));
        assert_eq!(r.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
        assert_eq!(r.extensions().count(), 0);
        assert!(r.is_websocket_upgrade());
        let key = r.validate_upgrade().unwrap();
        assert_eq!(key.as_bytes(), KEY);
        assert_eq!(&key.accept(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    })
    .unwrap();
}

#[test]
fn rfc_sample_answer_is_written_exactly() {
    let key = ClientKey::new(KEY).unwrap();
    let mut out = [0u8; 256];
    let len = write_accept_response(&mut out, &key, Some("chat"), &[]).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..len]).unwrap(),
        std::str::from_utf8(SAMPLE_RESPONSE).unwrap()
    );
}

#[test]
fn rfc_sample_answer_verifies() {
    let mut headers = [Header::EMPTY; 16];
    let (len, response) = ResponseParser::new(Limits::default())
        .parse(SAMPLE_RESPONSE, &mut headers)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(len, SAMPLE_RESPONSE.len());
    assert_eq!(response.status(), 101);
    assert_eq!(response.reason(), b"Switching Protocols");
    let accepted = response.verify(KEY, &["chat", "superchat"], &[]).unwrap();
    assert_eq!(accepted.protocol, Some("chat"));
}

#[test]
fn query_is_split_from_path() {
    let buf = b"GET /chat?room=1&x=?2 HTTP/1.1\r\nHost: a\r\n\r\n";
    with_request(buf, |_, r| {
        assert_eq!(r.path(), "/chat");
        assert_eq!(r.query(), Some("room=1&x=?2"));
        assert!(!r.is_websocket_upgrade());
    })
    .unwrap();
}

// ----- Round trip: client writes, server answers, client verifies -----

#[test]
fn client_server_round_trip() {
    struct Fixed;
    impl wslite::RandomSource for Fixed {
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b = i as u8 * 7);
        }
    }
    let key = wslite::handshake::generate_key(&mut Fixed);
    let request = ClientRequest {
        protocols: &["v2.chat", "v1.chat"],
        extensions: &["permessage-deflate; client_max_window_bits", "x-other"],
        origin: Some("https://example.org"),
        extra_headers: &[("Authorization", "Bearer abc")],
        ..ClientRequest::new("example.org:8080", "/socket?token=1", &key)
    };
    let mut wire = [0u8; 1024];
    let len = write_request(&mut wire, &request).unwrap();

    // Server side.
    let mut headers = [Header::EMPTY; 32];
    let mut server = RequestParser::new(Limits::default());
    let (head_len, parsed) = server
        .parse(&wire[..len], &mut headers)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(head_len, len);
    assert_eq!(parsed.path(), "/socket");
    assert_eq!(parsed.query(), Some("token=1"));
    assert_eq!(parsed.host(), Some(&b"example.org:8080"[..]));
    assert_eq!(parsed.header("authorization"), Some(&b"Bearer abc"[..]));
    assert_eq!(
        parsed.extensions().collect::<Vec<_>>(),
        [
            &b"permessage-deflate; client_max_window_bits"[..],
            b"x-other"
        ]
    );
    let client_key = parsed.validate_upgrade().unwrap();
    let chosen = parsed.protocols().find(|p| *p == "v1.chat");
    let mut answer = [0u8; 512];
    let answer_len = write_accept_response(
        &mut answer,
        &client_key,
        chosen,
        &[("Sec-WebSocket-Extensions", "permessage-deflate")],
    )
    .unwrap();

    // Client side, with an early frame after the head.
    let mut received = answer[..answer_len].to_vec();
    received.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
    let mut headers = [Header::EMPTY; 16];
    let (n, response) = ResponseParser::new(Limits::default())
        .parse(&received, &mut headers)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(n, answer_len, "the head length excludes the frame after it");
    let accepted = response
        .verify(&key, request.protocols, request.extensions)
        .unwrap();
    assert_eq!(accepted.protocol, Some("v1.chat"));
}

// ----- Incremental parsing -----

#[test]
fn byte_at_a_time_gives_partial_then_the_same_result() {
    let mut parser = RequestParser::new(Limits::default());
    for end in 0..SAMPLE_REQUEST.len() {
        let mut headers = [Header::EMPTY; 16];
        assert!(parser
            .parse(&SAMPLE_REQUEST[..end], &mut headers)
            .unwrap()
            .is_partial());
    }
    let mut headers = [Header::EMPTY; 16];
    let (len, r) = parser
        .parse(SAMPLE_REQUEST, &mut headers)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(len, SAMPLE_REQUEST.len());
    assert_eq!(r.headers().len(), 7);
    assert_eq!(r.validate_upgrade().unwrap().as_bytes(), KEY);
}

#[test]
fn early_frames_after_the_request_stay_with_the_caller() {
    let mut buf = SAMPLE_REQUEST.to_vec();
    buf.extend_from_slice(b"\x81\x85\x00\x00\x00\x00hello");
    with_request(&buf, |len, _| assert_eq!(len, SAMPLE_REQUEST.len())).unwrap();
}

// ----- Every refusal -----

#[test]
fn host_missing_or_duplicate_is_400() {
    let err = validate(&request_with("Host:", "")).unwrap_err();
    assert!(matches!(err, Error::MissingHeader("Host")));
    assert_eq!(status_of(&err), 400);
    let mut twice = request_with("Host:", "Host: a.example");
    twice.truncate(twice.len() - 2);
    twice.extend_from_slice(b"host: b.example\r\n\r\n");
    let err = validate(&twice).unwrap_err();
    assert!(matches!(err, Error::DuplicateHeader("Host")));
    assert_eq!(status_of(&err), 400);
}

#[test]
fn upgrade_missing_or_wrong_is_400() {
    let err = validate(&request_with("Upgrade:", "")).unwrap_err();
    assert!(matches!(err, Error::MissingHeader("Upgrade")));
    let err = validate(&request_with("Upgrade:", "Upgrade: h2c")).unwrap_err();
    assert!(matches!(err, Error::InvalidHeader(_)));
    assert_eq!(status_of(&err), 400);
    // Case-insensitive, and may be one of several.
    validate(&request_with("Upgrade:", "Upgrade: h2c, WebSocket")).unwrap();
}

#[test]
fn connection_needs_the_upgrade_token() {
    let err = validate(&request_with("Connection:", "")).unwrap_err();
    assert!(matches!(err, Error::MissingHeader("Connection")));
    let err = validate(&request_with("Connection:", "Connection: keep-alive")).unwrap_err();
    assert!(matches!(err, Error::InvalidHeader(_)));
    let err = validate(&request_with("Connection:", "Connection: Upgrades")).unwrap_err();
    assert!(matches!(err, Error::InvalidHeader(_)));
    validate(&request_with(
        "Connection:",
        "Connection: keep-alive, Upgrade",
    ))
    .unwrap();
    validate(&request_with(
        "Connection:",
        "Connection: keep-alive,upgrade",
    ))
    .unwrap();
}

#[test]
fn version_8_is_426_with_version_13_in_the_answer() {
    let err = validate(&request_with(
        "Sec-WebSocket-Version:",
        "Sec-WebSocket-Version: 8",
    ))
    .unwrap_err();
    assert!(matches!(err, Error::UnsupportedWebSocketVersion));
    assert_eq!(status_of(&err), 426);
    let text = written_error(&err);
    assert!(
        text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{text}");
    // A missing version gets the same answer.
    let err = validate(&request_with("Sec-WebSocket-Version:", "")).unwrap_err();
    assert!(matches!(err, Error::UnsupportedWebSocketVersion));
}

#[test]
fn bad_keys_are_400() {
    // Base64 of 15 bytes, of 17 bytes, not base64, non-canonical, missing.
    for line in [
        "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0O",
        "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODxA=",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!!",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==",
    ] {
        let err = validate(&request_with("Sec-WebSocket-Key:", line)).unwrap_err();
        assert!(matches!(err, Error::InvalidKey), "{line}: {err:?}");
        assert_eq!(status_of(&err), 400);
    }
    let err = validate(&request_with("Sec-WebSocket-Key:", "")).unwrap_err();
    assert!(matches!(err, Error::MissingHeader("Sec-WebSocket-Key")));
}

#[test]
fn post_is_405_and_http_1_0_is_505() {
    let mut post = SAMPLE_REQUEST.to_vec();
    post.splice(..3, *b"POST");
    let err = validate(&post).unwrap_err();
    assert!(matches!(err, Error::MethodNotGet));
    assert_eq!(status_of(&err), 405);
    assert!(written_error(&err).contains("\r\nAllow: GET\r\n"));

    let old = String::from_utf8(SAMPLE_REQUEST.to_vec())
        .unwrap()
        .replace("HTTP/1.1", "HTTP/1.0");
    let err = validate(old.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedHttpVersion));
    assert_eq!(status_of(&err), 505);
}

#[test]
fn only_http_1_1_is_upgraded_and_every_other_version_is_505() {
    let with_version = |version: &str| {
        String::from_utf8(SAMPLE_REQUEST.to_vec())
            .unwrap()
            .replacen("HTTP/1.1", version, 1)
    };
    let others = [
        "HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/1.0", "HTTP/1.2", "HTTP/9.9",
    ];
    for version in others {
        let err = validate(with_version(version).as_bytes()).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedHttpVersion),
            "{version}: {err:?}"
        );
        assert_eq!(status_of(&err), 505);
        assert!(written_error(&err).starts_with("HTTP/1.1 505 HTTP Version Not Supported\r\n"));
    }
    assert!(validate(with_version("HTTP/1.1").as_bytes()).is_ok());
}

/// The sample request with these header lines added at the end.
fn request_plus(lines: &str) -> Vec<u8> {
    let mut buf = SAMPLE_REQUEST[..SAMPLE_REQUEST.len() - 2].to_vec();
    buf.extend_from_slice(lines.as_bytes());
    buf.extend_from_slice(b"\r\n");
    buf
}

#[test]
fn a_get_that_announces_a_body_is_400() {
    for (lines, field) in [
        ("Content-Length: 6\r\n", "Content-Length"),
        ("Content-Length: 06\r\n", "Content-Length"),
        ("Content-Length: 0, 0\r\n", "Content-Length"),
        ("Content-Length: 0,6\r\n", "Content-Length"),
        ("Content-Length: -0\r\n", "Content-Length"),
        ("Content-Length: \r\n", "Content-Length"),
        ("Content-Length: zero\r\n", "Content-Length"),
        (
            "Content-Length: 0\r\ncontent-length: 6\r\n",
            "Content-Length",
        ),
        ("Transfer-Encoding: chunked\r\n", "Transfer-Encoding"),
        ("transfer-encoding: identity\r\n", "Transfer-Encoding"),
        ("Transfer-Encoding: \r\n", "Transfer-Encoding"),
        (
            "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding",
        ),
    ] {
        let err = validate(&request_plus(lines)).unwrap_err();
        assert!(
            matches!(err, Error::RequestBody(f) if f == field),
            "{lines:?}: {err:?}"
        );
        assert_eq!(status_of(&err), 400);
        assert!(written_error(&err).starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(err.to_string().contains(field), "{err}");
    }
    // A length of 0, however written and however often, is no body.
    for lines in [
        "Content-Length: 0\r\n",
        "Content-Length: 000\r\n",
        "Content-Length: 0\r\nCONTENT-LENGTH: 0\r\n",
    ] {
        assert!(validate(&request_plus(lines)).is_ok(), "{lines:?}");
    }
}

/// The sample request with this target (and the sample's Host).
fn request_for(target: &str) -> Vec<u8> {
    let mut buf = format!("GET {target} HTTP/1.1").into_bytes();
    buf.extend_from_slice(&SAMPLE_REQUEST["GET /chat HTTP/1.1".len()..]);
    buf
}

#[test]
fn an_absolute_form_target_is_reduced_to_its_path_and_query() {
    for (target, path, query) in [
        ("http://server.example.com/chat?x=1", "/chat", Some("x=1")),
        ("ws://server.example.com/chat", "/chat", None),
        ("HTTPS://Server.Example.COM/a/b?c?d", "/a/b", Some("c?d")),
        ("WsS://server.example.com", "/", None),
        ("http://server.example.com?x", "/", Some("x")),
    ] {
        with_request(&request_for(target), |_, r| {
            assert_eq!(r.target(), target);
            assert_eq!((r.path(), r.query()), (path, query), "{target}");
            let key = r.validate_upgrade().unwrap();
            assert_eq!(key.as_bytes(), KEY);
        })
        .unwrap();
    }
}

#[test]
fn an_absolute_form_target_must_name_the_host() {
    for target in [
        "http://evil.example/chat",
        "http://server.example.com:80/chat",
        "ws://server.example.com.evil.example/chat",
        "ws:///chat",
    ] {
        let err = validate(&request_for(target)).unwrap_err();
        assert!(matches!(err, Error::InvalidHeader(_)), "{target}: {err:?}");
        assert!(err.to_string().contains("RFC 9112 §3.2"), "{err}");
        assert_eq!(status_of(&err), 400);
    }
}

#[test]
fn other_target_forms_are_400() {
    for target in [
        "*",
        "server.example.com:80",
        "server.example.com",
        "chat",
        "ftp://server.example.com/chat",
        "httpss://server.example.com/chat",
        "s://server.example.com/chat",
        "http:/chat",
        "http:server.example.com/chat",
        "http://user@server.example.com/chat",
        "http://user:pw@server.example.com/chat",
    ] {
        let err = validate(&request_for(target)).unwrap_err();
        assert!(matches!(err, Error::InvalidTarget(_)), "{target}: {err:?}");
        assert_eq!(status_of(&err), 400);
        assert!(written_error(&err).starts_with("HTTP/1.1 400 Bad Request\r\n"));
    }
    // Outside the checked schemes the path is the target as sent.
    with_request(&request_for("ftp://h/p?q"), |_, r| {
        assert_eq!((r.path(), r.query()), ("ftp://h/p", Some("q")));
    })
    .unwrap();
}

#[test]
fn head_over_8_kib_is_431_before_it_ends() {
    let mut buf = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    buf.resize(8192, b'a');
    let mut headers = [Header::EMPTY; 64];
    let mut parser = RequestParser::new(Limits::default());
    // One byte short of the limit: still waiting.
    assert!(parser
        .parse(&buf[..8191], &mut headers)
        .unwrap()
        .is_partial());
    let err = parser.parse(&buf, &mut headers).unwrap_err();
    assert!(matches!(err, Error::HeadTooLarge { limit: 8192 }));
    assert_eq!(status_of(&err), 431);
}

#[test]
fn sixty_five_headers_is_431() {
    let mut buf = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..65 {
        buf.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    // No terminating empty line yet: the count alone is enough.
    let mut headers = [Header::EMPTY; 100];
    let err = RequestParser::new(Limits::default())
        .parse(&buf, &mut headers)
        .unwrap_err();
    assert!(matches!(err, Error::TooManyHeaders { limit: 64 }));
    assert_eq!(status_of(&err), 431);
    // 64 is fine.
    let mut ok = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..64 {
        ok.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    ok.extend_from_slice(b"\r\n");
    with_request(&ok, |_, r| assert_eq!(r.headers().len(), 64)).unwrap();
    // The caller's array is a limit too.
    let mut small = [Header::EMPTY; 3];
    let err = RequestParser::new(Limits::default())
        .parse(&ok, &mut small)
        .unwrap_err();
    assert!(matches!(err, Error::TooManyHeaders { limit: 3 }));
}

#[test]
fn malformed_heads_are_400() {
    for bad in [
        &b"GET / HTTP/1.1\nHost: a\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: a\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHo st: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1 \r\n\r\n",
        b"GET /\xff HTTP/1.1\r\n\r\n",
        b"GET / HTTP/x.1\r\n\r\n",
        b"GET / \r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
    ] {
        let mut headers = [Header::EMPTY; 8];
        let err = RequestParser::new(Limits::default())
            .parse(bad, &mut headers)
            .map(|s| s.is_partial())
            .unwrap_err();
        assert!(matches!(err, Error::MalformedHttp(_)), "{bad:?}: {err:?}");
        assert_eq!(status_of(&err), 400);
    }
}

#[test]
fn duplicate_origin_is_refused() {
    let mut buf = SAMPLE_REQUEST[..SAMPLE_REQUEST.len() - 2].to_vec();
    buf.extend_from_slice(b"Origin: http://evil.example\r\n\r\n");
    assert!(matches!(
        validate(&buf),
        Err(Error::DuplicateHeader("Origin"))
    ));
}

#[test]
fn error_responses_are_complete_http() {
    let text = written_error(&Error::HeadTooLarge { limit: 8192 });
    assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    assert!(text.contains("\r\nConnection: close\r\n"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(length, body.len());
    assert!(body.contains("8192"));
}

// ----- Client-side verification -----

fn verify(
    response: &[u8],
    protocols: &[&str],
    extensions: &[&str],
) -> Result<Option<String>, Error> {
    let mut headers = [Header::EMPTY; 16];
    let (_, r) = ResponseParser::new(Limits::default())
        .parse(response, &mut headers)?
        .complete()
        .expect("complete response");
    r.verify(KEY, protocols, extensions)
        .map(|a| a.protocol.map(str::to_owned))
}

fn response_with(extra: &str) -> Vec<u8> {
    let mut r =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            .to_vec();
    r.extend_from_slice(extra.as_bytes());
    r.extend_from_slice(b"\r\n");
    r
}

#[test]
fn verify_refuses_a_wrong_accept() {
    let bad = String::from_utf8(response_with(""))
        .unwrap()
        .replace("xOo=", "xOp=");
    assert!(matches!(
        verify(bad.as_bytes(), &[], &[]),
        Err(Error::InvalidAccept)
    ));
}

#[test]
fn verify_refuses_status_200() {
    let r = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    assert!(matches!(
        verify(r, &[], &[]),
        Err(Error::UnexpectedStatus { status: 200 })
    ));
}

#[test]
fn verify_checks_upgrade_and_connection() {
    let r = String::from_utf8(response_with(""))
        .unwrap()
        .replace("Connection: Upgrade", "Connection: close");
    assert!(matches!(
        verify(r.as_bytes(), &[], &[]),
        Err(Error::InvalidHeader(_))
    ));
    let r = String::from_utf8(response_with(""))
        .unwrap()
        .replace("Upgrade: websocket\r\n", "");
    assert!(matches!(
        verify(r.as_bytes(), &[], &[]),
        Err(Error::MissingHeader("Upgrade"))
    ));
    let r = String::from_utf8(response_with(""))
        .unwrap()
        .replace("Upgrade: websocket", "upgrade: WEBSOCKET")
        .replace("Connection: Upgrade", "connection: upgrade");
    assert_eq!(verify(r.as_bytes(), &[], &[]).unwrap(), None);
}

#[test]
fn verify_refuses_unoffered_subprotocols() {
    let r = response_with("Sec-WebSocket-Protocol: mqtt\r\n");
    assert!(matches!(
        verify(&r, &["chat"], &[]),
        Err(Error::UnofferedSubprotocol)
    ));
    assert!(matches!(
        verify(&r, &[], &[]),
        Err(Error::UnofferedSubprotocol)
    ));
    assert_eq!(
        verify(&r, &["chat", "mqtt"], &[]).unwrap().as_deref(),
        Some("mqtt")
    );
    // Two values, or two fields, are not a choice.
    let r = response_with("Sec-WebSocket-Protocol: chat, mqtt\r\n");
    assert!(matches!(
        verify(&r, &["chat", "mqtt"], &[]),
        Err(Error::InvalidHeader(_))
    ));
    let r = response_with("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n");
    assert!(matches!(
        verify(&r, &["chat"], &[]),
        Err(Error::DuplicateHeader(_))
    ));
}

#[test]
fn verify_refuses_unoffered_extensions() {
    let r = response_with(
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n",
    );
    assert!(matches!(
        verify(&r, &[], &[]),
        Err(Error::UnofferedExtension)
    ));
    assert!(matches!(
        verify(&r, &[], &["x-other"]),
        Err(Error::UnofferedExtension)
    ));
    verify(&r, &[], &["permessage-deflate; client_max_window_bits"]).unwrap();
    let r = response_with("Sec-WebSocket-Extensions: a, b\r\n");
    assert!(matches!(
        verify(&r, &[], &["a"]),
        Err(Error::UnofferedExtension)
    ));
    verify(&r, &[], &["b", "a"]).unwrap();
}

#[test]
fn a_101_followed_by_frames_measures_only_its_head() {
    let head = response_with("");
    let mut buf = head.clone();
    buf.extend_from_slice(b"\x81\x05hello");
    let mut parser = ResponseParser::new(Limits::default());
    let mut headers = [Header::EMPTY; 16];
    let (len, r) = parser
        .parse(&buf, &mut headers)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(len, head.len());
    r.verify(KEY, &[], &[]).unwrap();
}

// ----- Writers: injection and buffer size -----

#[test]
fn writers_refuse_header_injection() {
    let key = ClientKey::new(KEY).unwrap();
    let mut out = [0u8; 512];
    let injected = [
        ("X-A", "1\r\nSet-Cookie: evil=1"),
        ("X-A", "1\nX: y"),
        ("X-A", "1\rX: y"),
        ("X-A", "nul\0"),
        ("X-A\r\nEvil", "1"),
        ("X A", "1"),
        ("", "1"),
        ("X-A:", "1"),
        ("connection", "close"),
    ];
    assert!(matches!(
        write_accept_response(&mut out, &key, None, &[("Sec-WebSocket-Accept", "forged")]),
        Err(Error::InvalidInput(_))
    ));
    for header in injected {
        let extras = [header];
        assert!(
            matches!(
                write_accept_response(&mut out, &key, None, &extras),
                Err(Error::InvalidInput(_))
            ),
            "{header:?}"
        );
        let req = ClientRequest {
            extra_headers: &extras,
            ..ClientRequest::new("h", "/", KEY)
        };
        assert!(matches!(
            write_request(&mut out, &req),
            Err(Error::InvalidInput(_))
        ));
    }
    for protocol in ["chat\r\nX: y", "a b", "a,b", ""] {
        assert!(matches!(
            write_accept_response(&mut out, &key, Some(protocol), &[]),
            Err(Error::InvalidInput(_))
        ));
        let protocols = [protocol];
        let req = ClientRequest {
            protocols: &protocols,
            ..ClientRequest::new("h", "/", KEY)
        };
        assert!(matches!(
            write_request(&mut out, &req),
            Err(Error::InvalidInput(_))
        ));
    }
    for (host, path) in [
        ("h\r\nX: y", "/"),
        ("", "/"),
        ("a b", "/"),
        ("h", "x"),
        ("h", "/a b"),
        ("h", "/\r\n"),
    ] {
        let req = ClientRequest::new(host, path, KEY);
        assert!(
            matches!(write_request(&mut out, &req), Err(Error::InvalidInput(_))),
            "{host:?} {path:?}"
        );
    }
    let req = ClientRequest {
        origin: Some("http://a\r\nX: y"),
        ..ClientRequest::new("h", "/", KEY)
    };
    assert!(matches!(
        write_request(&mut out, &req),
        Err(Error::InvalidInput(_))
    ));
    let req = ClientRequest {
        extensions: &["deflate\r\nX: y"],
        ..ClientRequest::new("h", "/", KEY)
    };
    assert!(matches!(
        write_request(&mut out, &req),
        Err(Error::InvalidInput(_))
    ));
    let req = ClientRequest::new("h", "/", b"not a key, not a key!!!!");
    assert!(matches!(
        write_request(&mut out, &req),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        write_refusal(&mut out, 403, Some("No\r\nX: y"), &[], b""),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        write_refusal(&mut out, 403, None, &[("Content-Length", "0")], b""),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        write_refusal(&mut out, 101, None, &[], b""),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn writers_report_buffer_too_small() {
    let key = ClientKey::new(KEY).unwrap();
    let mut big = [0u8; 512];
    let needed = write_accept_response(&mut big, &key, Some("chat"), &[]).unwrap();
    let mut small = [0u8; 64];
    match write_accept_response(&mut small, &key, Some("chat"), &[]) {
        Err(Error::BufferTooSmall { needed: n }) => assert_eq!(n, needed),
        other => panic!("{other:?}"),
    }
    let req = ClientRequest::new("example.com", "/", KEY);
    let needed = write_request(&mut big, &req).unwrap();
    assert!(matches!(
        write_request(&mut big[..needed - 1], &req),
        Err(Error::BufferTooSmall { needed: n }) if n == needed
    ));
    assert_eq!(write_request(&mut big[..needed], &req).unwrap(), needed);
    assert!(matches!(
        write_error_response(&mut small[..10], &Error::InvalidKey),
        Err(Error::BufferTooSmall { .. })
    ));
    assert!(matches!(
        write_refusal(&mut small[..10], 403, None, &[], b"go away"),
        Err(Error::BufferTooSmall { .. })
    ));
}

#[test]
fn accept_response_len_fits_long_protocols_and_headers() {
    let key = ClientKey::new(KEY).unwrap();
    let protocol = "p".repeat(300);
    let value = "v".repeat(2048);
    let extra = [
        ("X-A", value.as_str()),
        ("X-B", value.as_str()),
        ("X-C", value.as_str()),
        ("X-D", value.as_str()),
    ];
    for (protocol, extra) in [
        (None, &[][..]),
        (Some("chat"), &[][..]),
        (Some(protocol.as_str()), &extra[..]),
    ] {
        let len = accept_response_len(protocol, extra);
        let mut out = vec![0u8; len];
        assert_eq!(
            write_accept_response(&mut out, &key, protocol, extra).unwrap(),
            len
        );
        assert!(out.ends_with(b"\r\n\r\n"));
    }
    // The RFC's sample answer, counted.
    assert_eq!(
        accept_response_len(Some("chat"), &[]),
        SAMPLE_RESPONSE.len()
    );
}

#[test]
fn a_refusal_fits_256_bytes_beyond_its_body_and_headers() {
    // The std layer sizes a refusal's buffer as 256 bytes, plus the body,
    // plus `name: value\r\n` for each extra header. The rest - status line
    // with the longest standard reason, Content-Length with 20 digits,
    // Connection: close, the empty line - is at most 105 bytes.
    let value = "v".repeat(1000);
    let extra = [("X-A", value.as_str()), ("Content-Type", "text/plain")];
    let headers: usize = extra.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    for status in 200..=599 {
        for (extra, headers) in [(&[][..], 0), (&extra[..], headers)] {
            for body in [&b""[..], &[b'x'; 4096]] {
                let mut out = vec![0u8; 105 + body.len() + headers];
                let len = write_refusal(&mut out, status, None, extra, body).unwrap();
                assert!(len <= out.len(), "{status}");
            }
        }
    }
}

#[test]
fn refusal_has_length_and_close() {
    let mut out = [0u8; 256];
    let len = write_refusal(
        &mut out,
        403,
        None,
        &[("Content-Type", "text/plain")],
        b"no",
    )
    .unwrap();
    assert_eq!(
        &out[..len],
        &b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"[..]
    );
}

#[test]
fn accept_key_matches_rfc() {
    assert_eq!(&accept_key(KEY), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// ----- Properties -----

/// Feeds `data` to both parsers in the chunks given by `cuts`, the way a
/// socket would deliver it; returns whether anything completed.
fn feed_in_chunks(data: &[u8], cuts: &[usize]) {
    let limits = Limits::default()
        .with_max_head_bytes(512)
        .with_max_headers(8);
    let mut req = RequestParser::new(limits);
    let mut resp = ResponseParser::new(limits);
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    ends.sort_unstable();
    ends.push(data.len());
    let (mut req_done, mut resp_done) = (false, false);
    for end in ends {
        let buf = &data[..end];
        if !req_done {
            let mut headers = [Header::EMPTY; 8];
            match req.parse(buf, &mut headers) {
                Ok(Status::Complete((_, r))) => {
                    let _ = r.validate_upgrade();
                    let _ = r.protocols().count();
                    let _ = r.extensions().count();
                    let _ = (r.path(), r.query(), r.is_websocket_upgrade());
                    req_done = true;
                }
                Ok(Status::Partial) => {}
                Err(_) => req_done = true,
            }
        }
        if !resp_done {
            let mut headers = [Header::EMPTY; 8];
            match resp.parse(buf, &mut headers) {
                Ok(Status::Complete((_, r))) => {
                    let _ = r.verify(KEY, &["chat"], &["x"]);
                    resp_done = true;
                }
                Ok(Status::Partial) => {}
                Err(_) => resp_done = true,
            }
        }
    }
}

/// Header fields as owned pairs, to compare parses of different buffers.
fn owned(headers: &[Header<'_>]) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect()
}

/// The outcome of a request parse, owned: the head length, or the error.
fn outcome(parser: &mut RequestParser, buf: &[u8]) -> Result<Option<usize>, String> {
    let mut headers = [Header::EMPTY; 8];
    match parser.parse(buf, &mut headers) {
        Ok(Status::Complete((len, _))) => Ok(Some(len)),
        Ok(Status::Partial) => Ok(None),
        Err(e) => Err(format!("{e:?}")),
    }
}

quickcheck! {
    fn chunked_parsing_agrees_with_one_shot(data: Vec<u8>, cuts: Vec<usize>) -> bool {
        // Mostly CR, LF and colons, so that heads end and break often.
        let data: Vec<u8> = data.iter().map(|b| b"\r\n:a \t"[*b as usize % 6]).collect();
        let limits = Limits::default().with_max_head_bytes(64).with_max_headers(4);
        let mut prefixed = b"GET / HTTP/1.1\r\n".to_vec();
        prefixed.extend_from_slice(&data);
        let one_shot = outcome(&mut RequestParser::new(limits), &prefixed);
        let mut parser = RequestParser::new(limits);
        let mut ends: Vec<usize> = cuts.iter().map(|c| c % (prefixed.len() + 1)).collect();
        ends.sort_unstable();
        for end in ends {
            match outcome(&mut parser, &prefixed[..end]) {
                Ok(None) => {}
                // Stopped early: it must be what the one-shot parse says.
                stopped => return stopped == one_shot,
            }
        }
        outcome(&mut parser, &prefixed) == one_shot
    }

    fn arbitrary_bytes_never_panic(data: Vec<u8>, cuts: Vec<usize>) -> bool {
        feed_in_chunks(&data, &cuts);
        true
    }

    fn plausible_heads_never_panic(lines: Vec<(u8, Vec<u8>)>, cuts: Vec<usize>) -> bool {
        // Bytes with many CR, LF, colons and spaces, to get past the first line.
        let alphabet = b"\r\n: ,;\"\\\tGETHTP/1.01 Ac-";
        let mut data = b"GET / HTTP/1.1\r\n".to_vec();
        for (kind, bytes) in lines {
            data.extend(bytes.iter().map(|b| alphabet[*b as usize % alphabet.len()]));
            if kind % 3 == 0 {
                data.extend_from_slice(b"\r\n");
            }
        }
        data.extend_from_slice(b"\r\n\r\n");
        feed_in_chunks(&data, &cuts);
        let mut status = data.clone();
        status.splice(..16, *b"HTTP/1.1 101 OK\r\n");
        feed_in_chunks(&status, &cuts);
        true
    }

    fn accept_response_len_is_the_length_written(
        protocol: Option<(String, u8)>,
        headers: Vec<(String, String, u8)>
    ) -> TestResult {
        // Arbitrary text made into tokens and field values (non-ASCII kept,
        // so multi-byte characters are counted too), repeated up to 40 times
        // for lengths from nothing to kilobytes.
        let token = |s: &str, times: u8| -> String {
            let tchars = b"!#$%&'*+-.^_`|~09azAZ";
            let t: String = s.chars().map(|c| tchars[c as usize % tchars.len()] as char).collect();
            format!("t{t}").repeat(usize::from(times % 40) + 1)
        };
        let value = |s: &str, times: u8| -> String {
            s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>()
                .repeat(usize::from(times % 40))
        };
        let protocol = protocol.map(|(p, times)| token(&p, times));
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v, times)| (format!("X-{}", token(n, 1)), value(v, *times)))
            .collect();
        let extra: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let key = ClientKey::new(KEY).unwrap();
        let len = accept_response_len(protocol.as_deref(), &extra);
        let mut out = vec![0u8; len];
        let exact = write_accept_response(&mut out, &key, protocol.as_deref(), &extra);
        let mut short = vec![0u8; len - 1];
        let one_short = write_accept_response(&mut short, &key, protocol.as_deref(), &extra);
        TestResult::from_bool(
            exact.ok() == Some(len)
                && matches!(one_short, Err(Error::BufferTooSmall { needed }) if needed == len),
        )
    }

    fn a_valid_request_split_anywhere_parses_the_same(split: usize) -> TestResult {
        let whole = with_request(SAMPLE_REQUEST, |len, r| {
            (len, owned(r.headers()), r.validate_upgrade().ok())
        })
        .unwrap();
        let split = split % SAMPLE_REQUEST.len();
        let mut parser = RequestParser::new(Limits::default());
        let mut headers = [Header::EMPTY; 16];
        if !parser.parse(&SAMPLE_REQUEST[..split], &mut headers).unwrap().is_partial() {
            return TestResult::failed();
        }
        let mut headers = [Header::EMPTY; 16];
        let (len, r) = parser.parse(SAMPLE_REQUEST, &mut headers).unwrap().complete().unwrap();
        TestResult::from_bool((len, owned(r.headers()), r.validate_upgrade().ok()) == whole)
    }
}

#[test]
fn an_error_response_carries_extra_headers_but_not_ones_that_contradict_it() {
    let mut out = [0u8; 1024];
    let len =
        write_error_response_with(&mut out, &Error::InvalidKey, &[("Server", "wslite/x")]).unwrap();
    let with = String::from_utf8(out[..len].to_vec()).unwrap();
    let (head, body) = with.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 400 "), "{with}");
    assert_eq!(head.matches("\r\nServer: wslite/x").count(), 1, "{with}");
    // Otherwise the same answer as without the extra field.
    let plain = written_error(&Error::InvalidKey);
    assert_eq!(plain.replace("Server: wslite/x\r\n", ""), plain);
    assert_eq!(with.replace("Server: wslite/x\r\n", ""), plain);
    assert!(plain.ends_with(body));
    assert!(matches!(
        write_error_response_with(&mut out, &Error::InvalidKey, &[("Content-Length", "0")]),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn host_is_refused_when_empty_alone_or_when_it_holds_a_bad_byte_alone() {
    // One broken condition per request, so each half of the check counts.
    for line in [
        "Host:",
        "Host: server example.com",
        "Host: server.\u{e9}xample.com",
    ] {
        assert!(
            matches!(
                validate(&request_with("Host:", line)),
                Err(Error::InvalidHeader(
                    "Host is empty or holds a space or non-ASCII byte"
                ))
            ),
            "{line:?}"
        );
    }
    assert!(validate(&request_with("Host:", "Host: h")).is_ok());
}

#[test]
fn verify_refuses_a_101_from_http_1_0_and_accepts_later_versions() {
    for (version, accepted) in [
        ("HTTP/1.0", false),
        ("HTTP/0.9", false),
        ("HTTP/1.1", true),
        ("HTTP/1.2", true),
        ("HTTP/2.0", true),
    ] {
        let response = String::from_utf8(response_with(""))
            .unwrap()
            .replacen("HTTP/1.1", version, 1);
        let result = verify(response.as_bytes(), &[], &[]);
        if accepted {
            assert!(result.is_ok(), "{version}: {result:?}");
        } else {
            assert!(
                matches!(result, Err(Error::UnsupportedHttpVersion)),
                "{version}: {result:?}"
            );
        }
        // The version read is the one sent, whatever its major number.
        let mut headers = [Header::EMPTY; 16];
        let (_, parsed) = ResponseParser::new(Limits::default())
            .parse(response.as_bytes(), &mut headers)
            .unwrap()
            .complete()
            .unwrap();
        let (major, minor) = parsed.version();
        assert_eq!(format!("HTTP/{major}.{minor}"), version);
    }
}
