//! The recipe end to end, in one process, on 127.0.0.1: a TLS echo server
//! with a certificate made now, and the client recipe trusting it (or, in
//! the negative tests, not).
//!
//! Every wait is bounded: the sockets have timeouts (the handshake timeout,
//! a read timeout) and the server's result is awaited for at most
//! `WAIT`.

use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rustls::ClientConfig;
use wslite::{CloseCode, CloseFrame, Message};
use wslite_tls_example::{self as tls, Error, SelfSigned};

/// The longest any test waits for the server thread's result.
const WAIT: Duration = Duration::from_secs(30);

/// The configuration of both ends: handshakes and reads bounded.
fn config() -> wslite::Config {
    wslite::Config::default()
        .handshake_timeout(Some(Duration::from_secs(10)))
        .read_timeout(Some(Duration::from_secs(10)))
}

/// What the server saw of one connection: the SNI name the client sent,
/// and the peer's Close (or the error that ended the connection).
type Seen = (Option<String>, Result<Option<CloseFrame>, Error>);

/// A TLS echo server for one connection, on 127.0.0.1, port chosen by the
/// system. Returns the port and where the server's result arrives.
fn serve_one(cert: &SelfSigned) -> (u16, mpsc::Receiver<Seen>) {
    let server_tls = cert.server_config().expect("server config");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        let seen = match tls::accept(tcp, server_tls, config()) {
            Ok(mut ws) => {
                let sni = ws.get_ref().conn.server_name().map(str::to_owned);
                (sni, tls::echo(&mut ws))
            }
            Err(e) => (None, Err(e)),
        };
        let _ = tx.send(seen);
    });
    (port, rx)
}

fn trusting(cert: &SelfSigned) -> Arc<ClientConfig> {
    tls::client_config(cert.roots().expect("roots")).expect("client config")
}

/// Bytes that do not compress (permessage-deflate is on by default): a
/// xorshift sequence.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn text_and_one_mebibyte_binary_echo_then_close_1000_on_both_sides() {
    let cert = SelfSigned::new(&["localhost", "127.0.0.1"]).expect("certificate");
    let (port, server) = serve_one(&cert);

    let url = format!("wss://127.0.0.1:{port}/echo");
    let mut ws = tls::connect(&url, trusting(&cert), config()).expect("connect");

    ws.send_text("hello over TLS").expect("send text");
    match ws.read().expect("read text") {
        Message::Text(text) => assert_eq!(text, "hello over TLS"),
        other => panic!("expected the text back, got {other:?}"),
    }

    let big = noise(1 << 20);
    ws.send_binary(&big).expect("send binary");
    match ws.read().expect("read binary") {
        Message::Binary(data) => {
            assert_eq!(data.len(), big.len());
            assert!(data == big, "the binary message came back changed");
        }
        other => panic!("expected the binary message back, got {other:?}"),
    }

    // The client closes; the server's answer echoes the code.
    let answer = ws.close(CloseCode::NORMAL, "done").expect("close");
    let answer = answer.expect("the server's Close has a code");
    assert_eq!(answer.code, CloseCode::NORMAL);

    let (sni, result) = server.recv_timeout(WAIT).expect("the server finished");
    let frame = result.expect("the server's connection ended cleanly");
    let frame = frame.expect("the client's Close has a code");
    assert_eq!(frame.code, CloseCode::NORMAL);
    assert_eq!(frame.reason, "done");
    // No SNI for an IP address (RFC 6066 §3): the name is only checked.
    assert_eq!(sni, None);
}

#[test]
fn a_dns_name_is_sent_as_sni_and_checked_against_the_certificate() {
    let cert = SelfSigned::new(&["localhost"]).expect("certificate");
    let (port, server) = serve_one(&cert);

    // `localhost` may resolve to ::1 first; the client tries each address
    // and the server listens on 127.0.0.1.
    let url = format!("wss://localhost:{port}/");
    let mut ws = tls::connect(&url, trusting(&cert), config()).expect("connect");
    ws.send_text("by name").expect("send");
    match ws.read().expect("read") {
        Message::Text(text) => assert_eq!(text, "by name"),
        other => panic!("expected the text back, got {other:?}"),
    }
    ws.close(CloseCode::NORMAL, "").expect("close");

    let (sni, result) = server.recv_timeout(WAIT).expect("the server finished");
    assert_eq!(sni.as_deref(), Some("localhost"));
    let frame = result.expect("clean end").expect("a code");
    assert_eq!(frame.code, CloseCode::NORMAL);
}

#[test]
fn a_read_that_times_out_over_tls_leaves_the_connection_usable() {
    let cert = SelfSigned::new(&["127.0.0.1"]).expect("certificate");
    let (port, server) = serve_one(&cert);

    let short = config().read_timeout(Some(Duration::from_millis(50)));
    let url = format!("wss://127.0.0.1:{port}/");
    let mut ws = tls::connect(&url, trusting(&cert), short).expect("connect");

    // Nothing was sent: the read times out, and the connection goes on.
    assert!(matches!(ws.read(), Err(wslite::Error::Timeout)));
    ws.send_text("still here").expect("send");
    let mut reply = None;
    for _ in 0..200 {
        match ws.read() {
            Ok(message) => {
                reply = Some(message);
                break;
            }
            Err(wslite::Error::Timeout) => continue,
            Err(e) => panic!("read failed: {e}"),
        }
    }
    match reply {
        Some(Message::Text(text)) => assert_eq!(text, "still here"),
        other => panic!("expected the text back, got {other:?}"),
    }
    ws.close(CloseCode::NORMAL, "").expect("close");
    let (_, result) = server.recv_timeout(WAIT).expect("the server finished");
    assert_eq!(
        result.expect("clean end").map(|f| f.code),
        Some(CloseCode::NORMAL)
    );
}

#[test]
fn a_client_that_does_not_trust_the_certificate_fails_with_a_tls_error() {
    let cert = SelfSigned::new(&["localhost", "127.0.0.1"]).expect("certificate");
    let someone_else = SelfSigned::new(&["localhost", "127.0.0.1"]).expect("certificate");
    let (port, server) = serve_one(&cert);

    let url = format!("wss://127.0.0.1:{port}/");
    match tls::connect(&url, trusting(&someone_else), config()) {
        // UnknownIssuer, or BadSignature: both certificates carry rcgen's
        // one subject name, so the trusted one looks like the issuer until
        // its signature is checked.
        Err(Error::Tls(rustls::Error::InvalidCertificate(why))) => assert!(
            matches!(
                why,
                rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature
            ),
            "{why:?}"
        ),
        Err(e) => panic!("expected a certificate error, got {e}"),
        Ok(_) => panic!("connected to a server whose certificate it does not trust"),
    }

    // The server hears about it as a TLS alert, and no WebSocket starts.
    let (_, result) = server.recv_timeout(WAIT).expect("the server finished");
    match result {
        Err(Error::Tls(rustls::Error::AlertReceived(_))) => {}
        other => panic!("expected the client's alert on the server, got {other:?}"),
    }
}

#[test]
fn a_certificate_for_another_name_fails_with_a_tls_error() {
    // Trusted, but made for a name the URL does not use.
    let cert = SelfSigned::new(&["example.test"]).expect("certificate");
    let (port, server) = serve_one(&cert);

    let url = format!("wss://127.0.0.1:{port}/");
    match tls::connect(&url, trusting(&cert), config()) {
        Err(Error::Tls(rustls::Error::InvalidCertificate(why))) => {
            let text = format!("{why:?}");
            assert!(text.contains("NotValidForName"), "{text}");
        }
        Err(e) => panic!("expected a certificate error, got {e}"),
        Ok(_) => panic!("accepted a certificate for another name"),
    }
    let _ = server.recv_timeout(WAIT).expect("the server finished");
}

#[test]
fn a_ws_url_is_refused_before_any_connection() {
    let cert = SelfSigned::new(&["127.0.0.1"]).expect("certificate");
    match tls::connect("ws://127.0.0.1:1/", trusting(&cert), config()) {
        Err(Error::Url(text)) => assert!(text.contains("wss://"), "{text}"),
        Err(e) => panic!("expected a URL error, got {e}"),
        Ok(_) => panic!("connected to ws:// through TLS"),
    }
}

#[test]
fn a_peer_that_never_starts_tls_is_dropped_at_the_handshake_timeout() {
    let cert = SelfSigned::new(&["127.0.0.1"]).expect("certificate");
    let server_tls = cert.server_config().expect("server config");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        let quick = config().handshake_timeout(Some(Duration::from_millis(200)));
        let _ = tx.send(tls::accept(tcp, server_tls, quick).map(|_| ()));
    });

    // Connects, then says nothing.
    let _silent = std::net::TcpStream::connect(addr).expect("connect");
    match rx.recv_timeout(WAIT).expect("the server gave up") {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
}
