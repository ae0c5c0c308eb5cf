//! The client through proxies: HTTP `CONNECT` (RFC 9110 §9.3.6, Basic
//! credentials RFC 7617) and SOCKS5 (RFC 1928, RFC 1929), each tunnelling to
//! a real wslite `Server` for an echo round trip; refusals named after the
//! proxy; one deadline for the whole exchange; the client's `User-Agent`
//! and the server's optional `Server` header.
//!
//! The proxies here are fakes, in-process on 127.0.0.1, that record what
//! they were asked. The `#[ignore]`d tests at the end run against real
//! proxies (tinyproxy, microsocks) that `tests/proxy/run.sh` starts; run
//! without the script they fail, they do not skip.
//!
//! Every wait is bounded: sockets carry timeouts and each client runs under
//! `bounded`. Nothing asserts how long something took.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use wslite::{ClientBuilder, CloseCode, Error, Message, Server, ServerHandle};

#[path = "common/wait.rs"]
mod wait;
use wait::bounded;

/// The longest any single wait in these tests may last.
const WAIT: Duration = Duration::from_secs(5);

// ----- the WebSocket server behind the proxies -----

/// An echo server that answers `user-agent?` with the request's
/// `User-Agent` (or `<none>`).
fn echo_server() -> ServerHandle {
    echo_on(Server::bind("127.0.0.1:0").unwrap())
}

fn echo_on(server: Server) -> ServerHandle {
    server
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(|mut ws| {
            let agent = ws
                .request()
                .and_then(|r| r.header("User-Agent"))
                .map(String::from);
            let agents = ws.request().map_or(0, |r| {
                r.headers()
                    .filter(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
                    .count()
            });
            for _ in 0..100 {
                match ws.read() {
                    Ok(Message::Text(t)) if t == "user-agent?" => {
                        let answer = format!("{} x{agents}", agent.as_deref().unwrap_or("<none>"));
                        if ws.send_text(&answer).is_err() {
                            return;
                        }
                    }
                    Ok(m) if m.is_data() => {
                        if ws.send(m).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        })
        .unwrap()
}

/// Connects with `builder`, checks an echo, and closes.
fn round_trip(builder: ClientBuilder) {
    let result = bounded(WAIT * 2, move || {
        let mut ws = builder.connect()?;
        ws.send_text("through the proxy")?;
        let echo = ws.read()?;
        ws.close(CloseCode::NORMAL, "")?;
        Ok::<_, Error>(echo)
    });
    assert_eq!(result.unwrap(), Message::text("through the proxy"));
}

/// Connects with `builder`, expecting an error.
fn refused(builder: ClientBuilder) -> Error {
    match bounded(WAIT * 2, move || builder.connect().map(|_| ())) {
        Ok(()) => panic!("the connection was expected to fail"),
        Err(e) => e,
    }
}

// ----- fake proxies -----

/// A listener whose connections `serve` handles, one thread each (at most
/// `count` of them); what `serve` reports comes back on the receiver.
fn fake_proxy<T: Send + 'static>(
    count: usize,
    serve: impl Fn(TcpStream, &mpsc::Sender<T>) + Send + 'static,
) -> (SocketAddr, mpsc::Receiver<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().take(count) {
            let Ok(stream) = stream else { return };
            stream.set_read_timeout(Some(WAIT)).unwrap();
            stream.set_write_timeout(Some(WAIT)).unwrap();
            serve(stream, &tx);
        }
    });
    (addr, rx)
}

/// Relays bytes both ways between the client and `target` until either
/// side ends (or a read times out).
fn relay(client: TcpStream, target: SocketAddr) {
    let server = TcpStream::connect_timeout(&target, WAIT).unwrap();
    server.set_read_timeout(Some(WAIT)).unwrap();
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(std::net::Shutdown::Write);
        });
    };
    pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
    pipe(server, client);
}

/// Reads an HTTP head, byte by byte.
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// An HTTP proxy: `answer` decides from the `CONNECT` head what status
/// line to send (`None`: 200 and relay to the requested port on
/// 127.0.0.1). Reports each request head.
fn http_proxy(
    answer: impl Fn(&str) -> Option<&'static str> + Send + 'static,
) -> (SocketAddr, mpsc::Receiver<String>) {
    fake_proxy(8, move |mut stream, tx| {
        let head = read_head(&mut stream);
        let _ = tx.send(head.clone());
        match answer(&head) {
            Some(status) => {
                let _ = write!(stream, "{status}\r\nContent-Length: 0\r\n\r\n");
            }
            None => {
                let target = head.split(' ').nth(1).unwrap();
                let port: u16 = target.rsplit(':').next().unwrap().parse().unwrap();
                stream
                    .write_all(b"HTTP/1.0 200 Connection established\r\nProxy-Agent: fake\r\n\r\n")
                    .unwrap();
                relay(stream, SocketAddr::from(([127, 0, 0, 1], port)));
            }
        }
    })
}

/// What a fake SOCKS5 proxy was asked.
#[derive(Debug)]
struct SocksRequest {
    methods: Vec<u8>,
    credentials: Option<(String, String)>,
    atyp: u8,
    address: Vec<u8>,
    port: u16,
}

/// A SOCKS5 proxy that wants `credentials` (if any) and answers the
/// request with `reply`; on 0 it relays to the requested port on
/// 127.0.0.1, whatever the address or name.
fn socks_proxy(
    credentials: Option<(&'static str, &'static str)>,
    reply: u8,
) -> (SocketAddr, mpsc::Receiver<SocksRequest>) {
    fake_proxy(8, move |mut s, tx| {
        let mut head = [0u8; 2];
        s.read_exact(&mut head).unwrap();
        let mut methods = vec![0u8; usize::from(head[1])];
        s.read_exact(&mut methods).unwrap();
        let mut got = None;
        match credentials {
            None => s.write_all(&[5, 0]).unwrap(),
            Some(_) if !methods.contains(&2) => {
                s.write_all(&[5, 0xff]).unwrap();
                let _ = tx.send(SocksRequest {
                    methods,
                    credentials: None,
                    atyp: 0,
                    address: vec![],
                    port: 0,
                });
                return;
            }
            Some((user, password)) => {
                s.write_all(&[5, 2]).unwrap();
                let mut b = [0u8; 2];
                s.read_exact(&mut b).unwrap();
                let mut u = vec![0u8; usize::from(b[1])];
                s.read_exact(&mut u).unwrap();
                s.read_exact(&mut b[..1]).unwrap();
                let mut p = vec![0u8; usize::from(b[0])];
                s.read_exact(&mut p).unwrap();
                let (u, p) = (String::from_utf8(u).unwrap(), String::from_utf8(p).unwrap());
                let ok = u == user && p == password;
                got = Some((u, p));
                s.write_all(&[1, if ok { 0 } else { 1 }]).unwrap();
                if !ok {
                    let _ = tx.send(SocksRequest {
                        methods,
                        credentials: got,
                        atyp: 0,
                        address: vec![],
                        port: 0,
                    });
                    return;
                }
            }
        }
        let mut req = [0u8; 4];
        s.read_exact(&mut req).unwrap();
        assert_eq!(req[..3], [5, 1, 0]);
        let len = match req[3] {
            1 => 4,
            4 => 16,
            3 => {
                let mut l = [0u8];
                s.read_exact(&mut l).unwrap();
                usize::from(l[0])
            }
            other => panic!("address type {other}"),
        };
        let mut address = vec![0u8; len];
        s.read_exact(&mut address).unwrap();
        let mut port = [0u8; 2];
        s.read_exact(&mut port).unwrap();
        let port = u16::from_be_bytes(port);
        let _ = tx.send(SocksRequest {
            methods,
            credentials: got,
            atyp: req[3],
            address,
            port,
        });
        // A reply bound to a name, to exercise the variable-length form.
        let mut answer = vec![5, reply, 0, 3, 4];
        answer.extend_from_slice(b"fake");
        answer.extend_from_slice(&1080u16.to_be_bytes());
        s.write_all(&answer).unwrap();
        if reply == 0 {
            relay(s, SocketAddr::from(([127, 0, 0, 1], port)));
        }
    })
}

fn recv<T>(rx: &mpsc::Receiver<T>) -> T {
    rx.recv_timeout(WAIT)
        .expect("the fake proxy reported nothing")
}

// ----- HTTP CONNECT -----

/// The error of a proxy that wants credentials when none were sent.
fn requires_authentication(e: Error) {
    assert!(
        matches!(
            e,
            Error::ProxyAuth {
                credentials_sent: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("requires authentication"), "{e}");
}

#[test]
fn http_connect_tunnels_to_the_server() {
    let server = echo_server();
    let (proxy, heads) = http_proxy(|_| None);
    let url = format!("ws://{}/", server.local_addr());
    round_trip(ClientBuilder::new(&url).proxy(format!("http://{proxy}")));
    let head = recv(&heads);
    let target = server.local_addr().to_string();
    assert!(
        head.starts_with(&format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n")),
        "{head}"
    );
    assert!(head.contains("User-Agent: wslite/"), "{head}");
    assert!(!head.contains("Proxy-Authorization"), "{head}");
}

#[test]
fn http_connect_sends_basic_credentials_and_407_names_the_failure() {
    let server = echo_server();
    // RFC 7617's example pair, the password percent-encoded in the URL.
    let (proxy, heads) = http_proxy(|head| {
        if head.contains("Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n") {
            None
        } else {
            Some("HTTP/1.1 407 Proxy Authentication Required")
        }
    });
    let url = format!("ws://{}/", server.local_addr());
    round_trip(ClientBuilder::new(&url).proxy(format!("http://Aladdin:open%20sesame@{proxy}")));
    recv(&heads);

    let e = refused(ClientBuilder::new(&url).proxy(format!("http://Aladdin:wrong-secret@{proxy}")));
    match &e {
        Error::ProxyAuth {
            proxy: name,
            credentials_sent: true,
            answer,
        } => {
            assert_eq!(name, &proxy.to_string());
            assert_eq!(answer, "HTTP/1.1 407 Proxy Authentication Required");
        }
        other => panic!("expected ProxyAuth, got {other:?}"),
    }
    let text = e.to_string();
    assert!(text.contains("authentication failed"), "{text}");
    assert!(text.contains(&proxy.to_string()), "{text}");
    assert!(!text.contains("wrong-secret"), "{text}");
    assert!(!format!("{e:?}").contains("wrong-secret"));

    requires_authentication(refused(
        ClientBuilder::new(&url).proxy(format!("http://{proxy}")),
    ));
}

#[test]
fn http_connect_refusals_keep_the_status_line() {
    for (line, status) in [
        ("HTTP/1.1 403 Forbidden", 403),
        ("HTTP/1.1 502 Bad Gateway", 502),
    ] {
        let (proxy, _heads) = http_proxy(move |_| Some(line));
        let e = refused(ClientBuilder::new("ws://127.0.0.1:9/").proxy(format!("http://{proxy}")));
        match &e {
            Error::ProxyRefused {
                proxy: name,
                status: got,
                status_line,
            } => {
                assert_eq!(name, &proxy.to_string());
                assert_eq!(*got, status);
                assert_eq!(status_line, line);
            }
            other => panic!("expected ProxyRefused, got {other:?}"),
        }
        assert!(e.to_string().contains(line), "{e}");
    }
}

#[test]
fn bytes_after_the_proxys_answer_stay_in_the_stream() {
    // A proxy whose 200 arrives in one write with the first bytes of the
    // tunnel: they are the destination's, and `open_stream` leaves them.
    let (proxy, _heads) = fake_proxy(1, |mut s, tx: &mpsc::Sender<()>| {
        read_head(&mut s);
        s.write_all(b"HTTP/1.1 200 OK\r\n\r\nfirst bytes of the tunnel")
            .unwrap();
        let _ = tx.send(());
        thread::sleep(Duration::from_millis(200));
    });
    let builder = ClientBuilder::new("wss://example.invalid/").proxy(format!("http://{proxy}"));
    let got = bounded(WAIT * 2, move || {
        let mut stream = builder.open_stream().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        got
    });
    assert_eq!(got, b"first bytes of the tunnel");
}

#[test]
fn an_unreachable_or_invalid_proxy_is_named() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e =
        refused(ClientBuilder::new("ws://127.0.0.1:9/").proxy(format!("http://127.0.0.1:{port}")));
    match &e {
        Error::ProxyIo { proxy, .. } => assert_eq!(proxy, &format!("127.0.0.1:{port}")),
        other => panic!("expected ProxyIo, got {other:?}"),
    }
    for url in [
        "ftp://127.0.0.1:1",
        "https://127.0.0.1:1",
        "http://127.0.0.1:1/path",
    ] {
        let e = refused(ClientBuilder::new("ws://127.0.0.1:9/").proxy(url));
        assert!(matches!(e, Error::InvalidProxyUrl(_)), "{url}: {e:?}");
    }
    // `no_proxy` wins over an earlier `proxy`.
    let server = echo_server();
    round_trip(
        ClientBuilder::new(format!("ws://{}/", server.local_addr()))
            .proxy("ftp://nowhere")
            .no_proxy(),
    );
}

// ----- SOCKS5 -----

#[test]
fn socks5_without_authentication_sends_an_address() {
    let server = echo_server();
    let (proxy, requests) = socks_proxy(None, 0);
    let port = server.local_addr().port();
    round_trip(
        ClientBuilder::new(format!("ws://127.0.0.1:{port}/")).proxy(format!("socks5://{proxy}")),
    );
    let request = recv(&requests);
    assert_eq!(request.methods, [0]);
    assert_eq!(
        (request.atyp, request.address.as_slice()),
        (1, &[127, 0, 0, 1][..])
    );
    assert_eq!(request.port, port);
    // `localhost` is resolved here: the proxy gets an address, not a name.
    round_trip(
        ClientBuilder::new(format!("ws://localhost:{port}/")).proxy(format!("socks5://{proxy}")),
    );
    let request = recv(&requests);
    assert!(matches!(request.atyp, 1 | 4), "{request:?}");
}

#[test]
fn socks5_with_username_and_password() {
    let server = echo_server();
    let (proxy, requests) = socks_proxy(Some(("wslite", "p@ss")), 0);
    let url = format!("ws://{}/", server.local_addr());
    round_trip(ClientBuilder::new(&url).proxy(format!("socks5://wslite:p%40ss@{proxy}")));
    let request = recv(&requests);
    assert_eq!(request.methods, [0, 2]);
    assert_eq!(request.credentials, Some(("wslite".into(), "p@ss".into())));

    let e = refused(ClientBuilder::new(&url).proxy(format!("socks5://wslite:nope@{proxy}")));
    assert!(
        matches!(
            e,
            Error::ProxyAuth {
                credentials_sent: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("nope"), "{e}");
    recv(&requests);

    // Without credentials the proxy accepts none of the methods offered.
    requires_authentication(refused(
        ClientBuilder::new(&url).proxy(format!("socks5://{proxy}")),
    ));
}

#[test]
fn socks5h_sends_the_host_name() {
    let server = echo_server();
    let (proxy, requests) = socks_proxy(None, 0);
    let port = server.local_addr().port();
    // A name no resolver knows: only the proxy can make sense of it.
    round_trip(
        ClientBuilder::new(format!("ws://wslite-proxy-test.invalid:{port}/"))
            .proxy(format!("socks5h://{proxy}")),
    );
    let request = recv(&requests);
    assert_eq!(request.atyp, 3);
    assert_eq!(request.address, b"wslite-proxy-test.invalid");
    assert_eq!(request.port, port);
}

#[test]
fn socks5_reply_codes_become_named_errors() {
    let (proxy, _requests) = socks_proxy(None, 5);
    let e = refused(ClientBuilder::new("ws://127.0.0.1:9/").proxy(format!("socks5://{proxy}")));
    match &e {
        Error::SocksRefused {
            proxy: name,
            reply: 5,
        } => assert_eq!(name, &proxy.to_string()),
        other => panic!("expected SocksRefused, got {other:?}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("connection refused by destination host"),
        "{text}"
    );
    assert!(text.contains(&proxy.to_string()), "{text}");
    let (proxy, _requests) = socks_proxy(None, 2);
    let e = refused(ClientBuilder::new("ws://127.0.0.1:9/").proxy(format!("socks5h://{proxy}")));
    assert!(
        e.to_string().contains("not allowed by the proxy's ruleset"),
        "{e}"
    );
}

// ----- one deadline -----

/// A proxy that answers, then trickles one byte every 200 ms for as long
/// as the client listens: a timer per read would never fire.
fn trickling_proxy(start: &'static [u8], filler: u8) -> SocketAddr {
    let (addr, _rx) = fake_proxy(1, move |mut s, _tx: &mpsc::Sender<()>| {
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        if s.write_all(start).is_err() {
            return;
        }
        if start.starts_with(&[5]) {
            // SOCKS: the request comes after the method's answer.
            let _ = s.read(&mut buf);
            if s.write_all(&[5, 0, 0, 3, 255]).is_err() {
                return;
            }
        }
        for _ in 0..200 {
            thread::sleep(Duration::from_millis(200));
            if s.write_all(&[filler]).is_err() {
                return;
            }
        }
    });
    addr
}

fn runs_into_the_one_deadline(scheme: &str, proxy: SocketAddr) {
    let builder = ClientBuilder::new("ws://127.0.0.1:9/")
        .proxy(format!("{scheme}://{proxy}"))
        .handshake_timeout(Some(Duration::from_millis(700)));
    let e = refused(builder);
    match &e {
        Error::ProxyTimeout { proxy: name } => assert_eq!(name, &proxy.to_string()),
        other => panic!("{scheme}: expected ProxyTimeout, got {other:?}"),
    }
}

#[test]
fn an_http_proxy_trickling_its_answer_runs_into_the_one_deadline() {
    let proxy = trickling_proxy(b"HTTP/1.1 200 OK\r\nX-Slow: ", b'a');
    runs_into_the_one_deadline("http", proxy);
}

#[test]
fn a_socks_proxy_trickling_its_answer_runs_into_the_one_deadline() {
    let proxy = trickling_proxy(&[5, 0], b'a');
    runs_into_the_one_deadline("socks5h", proxy);
}

// ----- User-Agent -----

fn user_agent_seen(builder: ClientBuilder) -> String {
    bounded(WAIT * 2, move || {
        let mut ws = builder.connect().unwrap();
        ws.send_text("user-agent?").unwrap();
        let answer = ws.read().unwrap();
        let _ = ws.close(CloseCode::NORMAL, "");
        match answer {
            Message::Text(t) => t.to_string(),
            other => panic!("{other:?}"),
        }
    })
}

#[test]
fn the_user_agent_is_wslite_unless_replaced_and_never_sent_twice() {
    let server = echo_server();
    let url = format!("ws://{}/", server.local_addr());
    let direct = || ClientBuilder::new(&url).no_proxy();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(user_agent_seen(direct()), format!("wslite/{version} x1"));
    assert_eq!(
        user_agent_seen(direct().user_agent("my-app/2.0")),
        "my-app/2.0 x1"
    );
    assert_eq!(user_agent_seen(direct().no_user_agent()), "<none> x0");
    assert_eq!(
        user_agent_seen(direct().header("user-agent", "from-header/1")),
        "from-header/1 x1"
    );
    assert_eq!(
        user_agent_seen(direct().no_user_agent().header("User-Agent", "h/1")),
        "h/1 x1"
    );
}

// ----- Server header -----

/// Sends `request` on a fresh connection and returns the answer's head.
fn answer_head(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    read_head(&mut stream)
}

fn upgrade(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

fn servers(head: &str) -> Vec<&str> {
    head.lines()
        .filter_map(|l| l.strip_prefix("Server: "))
        .collect()
}

#[test]
fn the_server_header_is_off_by_default_and_sent_everywhere_when_on() {
    let plain = echo_server();
    let head = answer_head(plain.local_addr(), &upgrade("/"));
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(servers(&head).is_empty(), "{head}");

    let ours = wslite::blocking::server::DEFAULT_SERVER_HEADER;
    assert_eq!(ours, format!("wslite/{}", env!("CARGO_PKG_VERSION")));
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .server_header(ours)
        .on_request(|r| match r.path() {
            "/no" => Err(wslite::HttpResponse::new(403).body("no")),
            "/own" => Err(wslite::HttpResponse::new(403).header("server", "mine")),
            _ => Ok(wslite::Accept::new()),
        })
        .http(|_| wslite::HttpResponse::new(200).body("page"))
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(|_| {})
        .unwrap();
    let addr = server.local_addr();
    for (request, status) in [
        (upgrade("/"), "101"),
        (upgrade("/no"), "403"),
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "200"),
        // A broken upgrade: the core's refusal, with the header spliced in.
        (upgrade("/").replace("Version: 13", "Version: 8"), "426"),
        (
            "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n".to_string(),
            "40",
        ),
    ] {
        let head = answer_head(addr, &request);
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{head}");
        assert_eq!(servers(&head), [ours], "{head}");
    }
    // The application's own `Server` is the only one.
    let head = answer_head(addr, &upgrade("/own"));
    assert_eq!(
        head.lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("server:"))
            .count(),
        1,
        "{head}"
    );
    assert!(head.contains("server: mine"), "{head}");
    // A value that would break the head is refused up front.
    let e = Server::bind("127.0.0.1:0")
        .unwrap()
        .server_header("x\r\nSet-Cookie: a=b")
        .spawn(|_| {})
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
}

#[test]
fn the_accepting_threads_503_carries_the_server_header_too() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .server_header("wslite-test")
        .max_connections(1)
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(|mut ws| while ws.read().is_ok() {})
        .unwrap();
    let addr = server.local_addr();
    // The one slot, taken and held.
    let holder = ClientBuilder::new(format!("ws://{addr}/"))
        .no_proxy()
        .connect()
        .unwrap();
    let head = answer_head(addr, &upgrade("/"));
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert_eq!(servers(&head), ["wslite-test"], "{head}");
    drop(holder);
}

// ----- real proxies, started by tests/proxy/run.sh -----

/// A variable the script sets; missing, the test fails.
fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests with tests/proxy/run.sh"))
}

/// The user and password the script configures the proxies with.
const USER: &str = "wslite";
const PASSWORD: &str = "s3cret";

/// One echo server for the real-proxy tests, on the port the script
/// allowed tinyproxy to `CONNECT` to.
fn real_server() -> String {
    static SERVER: std::sync::OnceLock<SocketAddr> = std::sync::OnceLock::new();
    let addr = SERVER.get_or_init(|| {
        let port = var("WSLITE_TEST_WS_PORT");
        let handle = echo_on(Server::bind(format!("127.0.0.1:{port}")).unwrap());
        let addr = handle.local_addr();
        std::mem::forget(handle);
        // `localhost` may resolve to ::1 first on the proxy's side.
        if let Ok(v6) = Server::bind(format!("[::1]:{port}")) {
            std::mem::forget(echo_on(v6));
        }
        addr
    });
    format!("ws://{addr}/")
}

#[test]
#[ignore = "needs tinyproxy: tests/proxy/run.sh"]
fn real_http_proxy() {
    let proxy = var("WSLITE_TEST_HTTP_PROXY");
    round_trip(ClientBuilder::new(real_server()).proxy(format!("http://{proxy}")));
}

#[test]
#[ignore = "needs tinyproxy: tests/proxy/run.sh"]
fn real_http_proxy_with_basic_auth() {
    let proxy = var("WSLITE_TEST_HTTP_AUTH_PROXY");
    round_trip(
        ClientBuilder::new(real_server()).proxy(format!("http://{USER}:{PASSWORD}@{proxy}")),
    );
    let e =
        refused(ClientBuilder::new(real_server()).proxy(format!("http://{USER}:wrong@{proxy}")));
    assert!(
        matches!(
            e,
            Error::ProxyAuth {
                credentials_sent: true,
                ..
            }
        ),
        "{e:?}"
    );
    println!("wrong password: {e}");
}

#[test]
#[ignore = "needs microsocks: tests/proxy/run.sh"]
fn real_socks5_proxy() {
    let proxy = var("WSLITE_TEST_SOCKS_PROXY");
    round_trip(ClientBuilder::new(real_server()).proxy(format!("socks5://{proxy}")));
    // socks5h: the proxy resolves `localhost` itself.
    let port = var("WSLITE_TEST_WS_PORT");
    round_trip(
        ClientBuilder::new(format!("ws://localhost:{port}/")).proxy(format!("socks5h://{proxy}")),
    );
}

#[test]
#[ignore = "needs microsocks: tests/proxy/run.sh"]
fn real_socks5_proxy_with_auth() {
    let proxy = var("WSLITE_TEST_SOCKS_AUTH_PROXY");
    round_trip(
        ClientBuilder::new(real_server()).proxy(format!("socks5://{USER}:{PASSWORD}@{proxy}")),
    );
    let e =
        refused(ClientBuilder::new(real_server()).proxy(format!("socks5h://{USER}:wrong@{proxy}")));
    assert!(matches!(e, Error::ProxyAuth { .. }), "{e:?}");
    println!("wrong password: {e}");
}

#[test]
#[ignore = "needs tinyproxy, http_proxy and https_proxy set: tests/proxy/run.sh"]
fn real_http_proxy_from_the_environment() {
    // The script sets, for this process only, `http_proxy` to the proxy
    // that wants a password, without one, and `https_proxy` to the same
    // proxy with it. Nothing here names a proxy.
    let auth_proxy = var("WSLITE_TEST_HTTP_AUTH_PROXY");
    assert!(var("http_proxy").ends_with(&auth_proxy));
    let ws_url = real_server();
    // `ws://` takes `http_proxy`: the proxy asks for credentials.
    let e = refused(ClientBuilder::new(&ws_url));
    match &e {
        Error::ProxyAuth {
            proxy,
            credentials_sent: false,
            ..
        } => assert_eq!(proxy, &auth_proxy),
        other => panic!("expected ProxyAuth from {auth_proxy}, got {other:?}"),
    }
    // `wss://` takes `https_proxy`, with credentials: `open_stream` gives
    // the tunnel, over which the handshake runs (plain, for the test).
    let wss_url = ws_url.replacen("ws://", "wss://", 1);
    let stream = bounded(WAIT, move || ClientBuilder::new(wss_url).open_stream()).unwrap();
    let mut ws = ClientBuilder::new(&ws_url).handshake(stream).unwrap();
    ws.send_text("via https_proxy").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("via https_proxy"));
    ws.close(CloseCode::NORMAL, "").unwrap();
    // And `no_proxy()` goes around the environment.
    round_trip(ClientBuilder::new(&ws_url).no_proxy());
}
