//! The size budget: a minimal WebSocket *server endpoint* on the wslite core.
//!
//! It reads the RFC 6455 §1.3 opening request, validates it, writes the 101,
//! reads one masked text frame (the §5.7 "Hello", UTF-8 checked), answers
//! with one text frame, sends any control frame the connection queued, and
//! closes with 1000. Inputs arrive through `black_box` (the optimizer cannot
//! see them) and every byte sent goes out through semihosting as hex, so
//! nothing is computed at compile time or optimized away. `run.sh` checks the
//! bytes sent and subtracts `size_baseline`.
//!
//! One I/O buffer of `config::BUF` bytes serves the whole exchange: the
//! request is read into it, the 101 written into it (the key has been copied
//! out by then), and frames are read through it. `config::HEADERS` header
//! slots hold the parsed request's fields. Both come from build.rs
//! (`WSLITE_BUF`, `WSLITE_HEADERS`; defaults 256 and 8: the §1.3 request is
//! 230 bytes with 7 header fields, so these are the smallest that work).
#![no_std]
#![no_main]

#[path = "../endpoint.rs"]
mod endpoint;
#[path = "../inputs.rs"]
mod inputs;
#[path = "../rt.rs"]
#[allow(dead_code)]
mod rt;
mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}

use core::hint::black_box;

use endpoint::{close_normally, fail, run, send_pending, NoRandom, Socket};
use wslite::handshake::{self, Header, RequestParser, Status};
use wslite::protocol::{Connection, DataKind, Event, Limits, Role};

#[inline(never)]
fn serve(socket: &mut Socket) {
    let mut buf = [0u8; config::BUF];
    let mut rng = NoRandom;

    // 1. The opening handshake (§4.2): read until the head is complete.
    let mut filled = 0;
    let key = {
        let mut parser = RequestParser::new(
            handshake::Limits::new()
                .with_max_head_bytes(config::BUF)
                .with_max_headers(config::HEADERS),
        );
        loop {
            let n = socket.read(&mut buf[filled..]);
            if n == 0 {
                fail();
            }
            filled += n;
            let mut headers = [Header::EMPTY; config::HEADERS];
            match parser.parse(&buf[..filled], &mut headers) {
                Ok(Status::Complete((_, request))) => match request.validate_upgrade() {
                    Ok(key) => break key,
                    Err(_) => fail(),
                },
                Ok(Status::Partial) => {}
                Err(_) => fail(),
            }
        }
    };
    match handshake::write_accept_response(&mut buf, &key, None, &[]) {
        Ok(len) => socket.write(&buf[..len]),
        Err(_) => fail(),
    }

    // 2. One text message in, one out.
    socket.input = black_box(inputs::FRAME);
    let mut conn = Connection::new(Role::Server, Limits::default());
    let filled = socket.read(&mut buf);
    let (consumed, len) = match conn.receive(&mut buf[..filled]) {
        Ok(received) => match received.event {
            Some(Event::Data {
                kind: DataKind::Text,
                bytes,
                fin: true,
                ..
            }) => (received.consumed, bytes.len()),
            _ => fail(),
        },
        Err(_) => {
            // The connection queued a Close with the right code; send it.
            send_pending(&mut conn, socket, &mut rng);
            fail()
        }
    };
    send_pending(&mut conn, socket, &mut rng);
    // Echo it: the payload is the last `len` bytes consumed, unmasked in place.
    match conn.encode_data(DataKind::Text, true, len as u64, &mut rng) {
        Ok(header) => socket.write(header.as_bytes()),
        Err(_) => fail(),
    }
    socket.write(&buf[consumed - len..consumed]);

    // 3. The closing handshake (§7).
    close_normally(&mut conn, socket, &mut rng);
}

#[no_mangle]
pub extern "C" fn rust_main() -> ! {
    run(inputs::REQUEST, serve)
}
