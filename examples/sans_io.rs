//! The whole protocol with no sockets: a client and a server, both driven
//! through the `no_std` core only, exchanging bytes over an in-memory pipe.
//!
//! ```sh
//! cargo run --example sans_io
//! ```
//!
//! Every call in the protocol path is one a microcontroller would make with
//! smoltcp, lwIP or embassy-net: fixed-size buffers on the stack, no heap, no
//! `std` types (only the printing uses `std`). The pipe delivers bytes in
//! small pieces on purpose, as a network does, to show that the core keeps
//! its state between calls: headers and payloads may arrive cut anywhere.
//! See `no_std_notes.md` for the same loop on real network stacks.

#[path = "common/cli.rs"]
mod cli;

use wslite::handshake::{self, ClientRequest, Header, RequestParser, ResponseParser, Status};
use wslite::protocol::{Connection, DataKind, Event, Limits, Role};
use wslite::{CloseCode, RandomSource};

/// A network in one direction: bytes written at one end, read at the other,
/// in pieces of at most `chunk` bytes.
struct Pipe {
    bytes: [u8; 1024],
    start: usize,
    end: usize,
    chunk: usize,
}

impl Pipe {
    const fn new(chunk: usize) -> Self {
        Pipe {
            bytes: [0; 1024],
            start: 0,
            end: 0,
            chunk,
        }
    }

    /// What a socket's `send` does.
    fn write(&mut self, data: &[u8]) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        self.bytes[self.end..self.end + data.len()].copy_from_slice(data);
        self.end += data.len();
    }

    /// What a socket's `recv` does: at most `chunk` bytes at a time.
    fn read(&mut self, out: &mut [u8]) -> usize {
        let n = (self.end - self.start).min(out.len()).min(self.chunk);
        out[..n].copy_from_slice(&self.bytes[self.start..self.start + n]);
        self.start += n;
        n
    }
}

/// A board would read its hardware RNG here. (A fixed sequence is fine for
/// a demonstration, never for a real client: RFC 6455 §10.3.)
struct DemoRng(u32);

impl RandomSource for DemoRng {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            // xorshift32
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            *b = self.0 as u8;
        }
    }
}

fn show(who: &str, what: &str) {
    println!("{who:>6}: {what}");
}

const USAGE: &str = "\
usage: sans_io

The whole protocol with no sockets: a client and a server, both driven
through the no_std core only, exchange the opening handshake, messages
(cut into 5- and 7-byte pieces on the way, as a network may) and the
closing handshake over an in-memory pipe, then a broken rule and the
Close that names it, and print each step.

Arguments: none.

Options:
  -h, --help  print this help

Example:
  cargo run --example sans_io
";

fn main() {
    let args = cli::args(USAGE);
    if let Some(arg) = args.first() {
        cli::usage_error(format!("unexpected argument {arg:?}"));
    }
    cli::finish(run());
}

fn run() -> Result<(), wslite::Error> {
    let mut to_server = Pipe::new(7); // the network cuts everything into 7-byte pieces
    let mut to_client = Pipe::new(5);
    let mut client_rng = DemoRng(0x2545_f491);
    let mut server_rng = DemoRng(1); // a server never masks: never called

    println!("== step 1: the opening handshake (RFC 6455 §4)");
    let key = handshake::generate_key(&mut client_rng);
    let mut out = [0u8; 256];
    let request = ClientRequest::new("board.local", "/ws", &key);
    let n = handshake::write_request(&mut out, &request)?;
    show(
        "client",
        &format!(
            "sends its GET with key {}",
            std::str::from_utf8(&key).unwrap_or("?")
        ),
    );
    to_server.write(&out[..n]);

    // The server collects the request piece by piece. The parser remembers
    // how far it has looked, so this costs linear time however small the
    // pieces are.
    let mut buf = [0u8; 512];
    let mut filled = 0;
    let mut parser = RequestParser::new(handshake::Limits::new().with_max_head_bytes(buf.len()));
    let mut reads = 0;
    let (client_key, head_len) = loop {
        filled += to_server.read(&mut buf[filled..]);
        reads += 1;
        let mut headers = [Header::EMPTY; 16];
        if let Status::Complete((len, request)) = parser.parse(&buf[..filled], &mut headers)? {
            show(
                "server",
                &format!(
                    "read the whole request in {reads} pieces: GET {}",
                    request.path()
                ),
            );
            break (request.validate_upgrade()?, len);
        }
    };
    let n = handshake::write_accept_response(&mut out, &client_key, None, &[])?;
    show(
        "server",
        &format!(
            "answers 101 with Sec-WebSocket-Accept {}",
            std::str::from_utf8(&client_key.accept()).unwrap_or("?")
        ),
    );
    to_client.write(&out[..n]);
    assert_eq!(filled, head_len, "no early frames in this exchange");

    let mut cbuf = [0u8; 512];
    let mut cfilled = 0;
    let mut cparser = ResponseParser::new(handshake::Limits::new());
    loop {
        cfilled += to_client.read(&mut cbuf[cfilled..]);
        let mut headers = [Header::EMPTY; 16];
        if let Status::Complete((_, response)) = cparser.parse(&cbuf[..cfilled], &mut headers)? {
            response.verify(&key, &[], &[])?;
            show(
                "client",
                "checked the 101: status, Upgrade, Connection, and the accept value for its key",
            );
            break;
        }
    }

    println!("== step 2: the channel is open; both sides now speak in frames (§5)");
    let mut server = Connection::new(Role::Server, Limits::default());
    let mut client = Connection::new(Role::Client, Limits::default());

    println!("== step 3: a masked text message, then a ping");
    let mut payload = *b"Hello, board";
    let header = client.encode_data(DataKind::Text, true, payload.len() as u64, &mut client_rng)?;
    header.mask_payload(&mut payload, 0);
    show(
        "client",
        &format!(
            "sends header {:02x?} and the payload masked with key {:02x?}",
            header.as_bytes(),
            header.mask().unwrap_or_default()
        ),
    );
    to_server.write(header.as_bytes());
    to_server.write(&payload);
    let ping = client.encode_ping(b"are you there?", &mut client_rng)?;
    to_server.write(ping.as_bytes());

    // The server's receive loop: read what arrived, let the core take it,
    // answer what it queued.
    let mut echo = [0u8; 64];
    let mut echo_len = 0;
    filled = 0;
    while to_server.start < to_server.end || filled > 0 {
        filled += to_server.read(&mut buf[filled..]);
        let mut start = 0;
        loop {
            let received = match server.receive(&mut buf[start..filled]) {
                Ok(received) => received,
                Err(broken) => {
                    // The Close that names the broken rule goes out first
                    // (step 7 shows it).
                    send_owed(&mut server, &mut server_rng, &mut to_client, "server");
                    return Err(broken);
                }
            };
            let used = received.consumed;
            match received.event {
                Some(Event::Data {
                    kind, bytes, fin, ..
                }) => {
                    show(
                        "server",
                        &format!(
                            "{kind:?} piece {:?} (end of message: {fin})",
                            String::from_utf8_lossy(bytes)
                        ),
                    );
                    echo[echo_len..echo_len + bytes.len()].copy_from_slice(bytes);
                    echo_len += bytes.len();
                }
                Some(Event::Ping(p)) => show(
                    "server",
                    &format!(
                        "ping {:?}: the core queued the pong",
                        String::from_utf8_lossy(p)
                    ),
                ),
                Some(other) => show("server", &format!("{other:?}")),
                None if used == 0 => break,
                None => {}
            }
            start += used;
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        while let Some(frame) = server.take_pending(&mut server_rng) {
            show(
                "server",
                &format!("sends the queued control frame {:02x?}", frame.as_bytes()),
            );
            to_client.write(frame.as_bytes());
        }
    }
    let header = server.encode_data(DataKind::Text, true, echo_len as u64, &mut server_rng)?;
    show(
        "server",
        &format!(
            "echoes the text with header {:02x?} (no mask: servers never mask)",
            header.as_bytes()
        ),
    );
    to_client.write(header.as_bytes());
    to_client.write(&echo[..echo_len]);

    println!("== step 4: the closing handshake (§7)");
    let close = client.encode_close(CloseCode::NORMAL, "bye", &mut client_rng)?;
    show("client", "sends Close 1000 \"bye\"");
    to_server.write(close.as_bytes());

    drain(
        &mut to_client,
        &mut client,
        &mut client_rng,
        &mut to_server,
        "client",
    )?;
    drain(
        &mut to_server,
        &mut server,
        &mut server_rng,
        &mut to_client,
        "server",
    )?;
    drain(
        &mut to_client,
        &mut client,
        &mut client_rng,
        &mut to_server,
        "client",
    )?;
    show("server", &format!("closed: {}", server.is_closed()));
    show("client", &format!("closed: {}", client.is_closed()));

    println!("== step 5: then TCP ends, the server's side first (§7.1.1)");
    // The side that closes first keeps TIME_WAIT; the server does, so the
    // client waits (a bounded time) for the server's FIN before its own.
    show("server", &format!("end of TCP: {:?}", server.end_of_tcp()));
    show("client", &format!("end of TCP: {:?}", client.end_of_tcp()));

    println!("== step 6: the same connection as two halves, for two tasks");
    // A reading task owns the Receiver, a writing task the Sender; they
    // share only `Shared` (under the platform's lock, never across I/O).
    let (mut receiver, mut sender, mut shared) =
        Connection::new(Role::Server, Limits::default()).into_parts();
    let mut ping = [0x89, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    let received = receiver.receive(&mut shared, &mut ping)?;
    show(
        "reader",
        &format!("{:?}; the pong is noted as owed", received.event),
    );
    if let Some(pong) = sender.take_pending(&mut shared, &mut server_rng) {
        show(
            "writer",
            &format!("takes it and sends {:02x?}", pong.as_bytes()),
        );
    }

    println!("== step 7: a broken rule fails the connection (§7.1.7)");
    // A client's frame must be masked (§5.1); this one is not. The server
    // still sends the Close that names the rule (1002) before it ends TCP.
    let mut server = Connection::new(Role::Server, Limits::default());
    let mut to_server = Pipe::new(7);
    let mut to_client = Pipe::new(5);
    to_server.write(&[0x81, 0x02, b'h', b'i']);
    match drain(
        &mut to_server,
        &mut server,
        &mut server_rng,
        &mut to_client,
        "server",
    ) {
        Err(broken) => show("server", &format!("failed: {broken}")),
        Ok(()) => show("server", "accepted an unmasked frame (a bug)"),
    }
    show("server", &format!("end of TCP: {:?}", server.end_of_tcp()));
    Ok(())
}

/// Reads everything waiting in `pipe` into `conn`, shows the events, and
/// sends what the core queued in answer.
fn drain(
    pipe: &mut Pipe,
    conn: &mut Connection,
    rng: &mut DemoRng,
    back: &mut Pipe,
    who: &str,
) -> Result<(), wslite::Error> {
    let mut buf = [0u8; 256];
    let mut filled = 0;
    while pipe.start < pipe.end || filled > 0 {
        filled += pipe.read(&mut buf[filled..]);
        let mut start = 0;
        while !conn.is_closed() {
            let received = match conn.receive(&mut buf[start..filled]) {
                Ok(received) => received,
                Err(broken) => {
                    // A broken rule queued the Close that names it: it
                    // must still go out, or the peer never learns why.
                    send_owed(conn, rng, back, who);
                    return Err(broken);
                }
            };
            let used = received.consumed;
            match received.event {
                Some(Event::Data { bytes, fin, .. }) => show(
                    who,
                    &format!(
                        "text piece {:?} (end: {fin})",
                        String::from_utf8_lossy(bytes)
                    ),
                ),
                Some(Event::Pong(p)) => {
                    show(who, &format!("pong {:?}", String::from_utf8_lossy(p)))
                }
                Some(Event::Close(Some(c))) => {
                    show(who, &format!("Close {} {:?}", c.code, c.reason))
                }
                Some(other) => show(who, &format!("{other:?}")),
                None if used == 0 => break,
                None => {}
            }
            start += used;
        }
        if conn.is_closed() {
            break;
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
    send_owed(conn, rng, back, who);
    Ok(())
}

/// Sends what the core queued: the pong for a ping, the answer to a Close,
/// or the Close that names a broken rule.
fn send_owed(conn: &mut Connection, rng: &mut DemoRng, back: &mut Pipe, who: &str) {
    while let Some(frame) = conn.take_pending(rng) {
        show(
            who,
            &format!("sends the queued answer {:02x?}", frame.as_bytes()),
        );
        back.write(frame.as_bytes());
    }
}
