// The body of the permessage-deflate size endpoints, included by
// `src/bin/size_{inflate,codec}_w{9,12,15}.rs` after they define
// `WINDOW_BITS` (the window both directions agree on, 2^WINDOW_BITS bytes)
// and `DEFLATE` (whether the endpoint also compresses what it sends); it
// declares the modules they share, so each binary is its two constants.
//
// It is `size_server` with permessage-deflate (RFC 7692): it reads the
// request, negotiates the extension with both windows limited to
// WINDOW_BITS (§7.1.2), writes the 101 with the agreed parameters, reads
// the masked compressed "Hello" of §7.2.3.1, inflates it (UTF-8 checked),
// echoes it (compressed if DEFLATE, §7.2.1), and closes with 1000. Every
// byte sent goes out as hex for `run.sh` to check.
//
// Memory: the inflater's window and the deflater's storage are `static`
// arrays (so they show as static RAM); the inflater's and the deflater's
// own state (decoding tables, codes) are on the stack, in the stack peak.

// The paths are this file's: `src/`.
#[path = "endpoint.rs"]
mod endpoint;
#[path = "inputs.rs"]
mod inputs;
#[path = "rt.rs"]
#[allow(dead_code)]
mod rt;

use core::hint::black_box;

use endpoint::{close_normally, fail, run, send_pending, NoRandom, Socket};
use wslite::deflate::deflate::{ArrayStorage, Deflater, Level, Parts, Storage};
use wslite::handshake::{self, Header, RequestParser, Status};
use wslite::permessage_deflate::message::{MessageDeflater, MessageInflater};
use wslite::permessage_deflate::negotiation::{self, DeflateOptions, MAX_RESPONSE_LEN};
use wslite::protocol::{Connection, DataKind, Event, Limits, Role};

/// The I/O buffer: the request with its extension offer is 290 bytes.
const BUF: usize = 320;
/// Header slots: the request has 8 fields.
const HEADERS: usize = 8;
/// The window, in bytes.
const WINDOW: usize = 1 << WINDOW_BITS;

/// The deflater's storage for a 2^WINDOW_BITS window, scaled like
/// `Window512` (its 9-bit case): a window buffer of twice the window, a hash
/// head of half the window's entries, a chain of one entry per window
/// byte, and half the window's count of symbols per block.
type Compressor = ArrayStorage<{ 2 * WINDOW }, { WINDOW / 2 }, { WINDOW }, { 3 * WINDOW / 2 }>;

static mut INFLATE_WINDOW: [u8; WINDOW] = [0; WINDOW];
static mut DEFLATE_STORAGE: Compressor = Compressor::new();

/// A [`Storage`] that borrows the static storage.
struct Borrowed(&'static mut Compressor);

impl Storage for Borrowed {
    fn parts(&mut self) -> Parts<'_> {
        self.0.parts()
    }
}

#[inline(never)]
fn serve(socket: &mut Socket) {
    let mut buf = [0u8; BUF];
    let mut rng = NoRandom;
    let options = DeflateOptions::new()
        .with_server_max_window_bits(WINDOW_BITS)
        .with_client_max_window_bits(WINDOW_BITS);

    // 1. The opening handshake (RFC 6455 §4.2) and the negotiation (RFC
    //    7692 §7.1): no agreement, or a client window larger than ours,
    //    fails here (a real server would answer without the extension).
    let mut filled = 0;
    let (key, agreed) = {
        let mut parser = RequestParser::new(
            handshake::Limits::new()
                .with_max_head_bytes(BUF)
                .with_max_headers(HEADERS),
        );
        loop {
            let n = socket.read(&mut buf[filled..]);
            if n == 0 {
                fail();
            }
            filled += n;
            let mut headers = [Header::EMPTY; HEADERS];
            match parser.parse(&buf[..filled], &mut headers) {
                Ok(Status::Complete((_, request))) => {
                    let Ok(key) = request.validate_upgrade() else {
                        fail()
                    };
                    let Some(agreed) = negotiation::negotiate(request.extensions(), &options)
                    else {
                        fail()
                    };
                    break (key, agreed);
                }
                Ok(Status::Partial) => {}
                Err(_) => fail(),
            }
        }
    };
    let incoming = agreed.receiving(Role::Server);
    if incoming.window_bits > WINDOW_BITS {
        fail();
    }
    let mut answer = [0u8; MAX_RESPONSE_LEN];
    let Ok(extension) = negotiation::write_response_str(&agreed, &mut answer) else {
        fail()
    };
    match handshake::write_accept_response(
        &mut buf,
        &key,
        None,
        &[("Sec-WebSocket-Extensions", extension)],
    ) {
        Ok(len) => socket.write(&buf[..len]),
        Err(_) => fail(),
    }

    // 2. One compressed text message in.
    // SAFETY: the only reference to the static window, made once.
    let window = unsafe { &mut *core::ptr::addr_of_mut!(INFLATE_WINDOW) };
    let mut inflater = MessageInflater::new(window, incoming.no_context_takeover, Limits::default());
    let (receiver, mut sender, shared) = Connection::new(Role::Server, Limits::default()).into_parts();
    let mut receiver = receiver;
    receiver.enable_compression();
    if DEFLATE {
        sender.enable_compression();
    }
    let mut conn = Connection::from_parts(receiver, sender, shared);
    socket.input = black_box(inputs::PMD_FRAME);
    let filled = socket.read(&mut buf);
    let mut text = [0u8; 32];
    let mut len = 0;
    match conn.receive(&mut buf[..filled]) {
        Ok(received) => match received.event {
            Some(Event::Data {
                kind: DataKind::Text,
                bytes,
                fin: true,
                compressed: true,
            }) => {
                let mut input = bytes;
                loop {
                    let Ok(r) = inflater.inflate(DataKind::Text, input, true, &mut text[len..])
                    else {
                        fail()
                    };
                    len += r.produced;
                    input = &input[r.consumed..];
                    if r.done {
                        break;
                    }
                    if len == text.len() {
                        fail();
                    }
                }
            }
            _ => fail(),
        },
        Err(_) => {
            send_pending(&mut conn, socket, &mut rng);
            fail()
        }
    }
    send_pending(&mut conn, socket, &mut rng);

    // 3. Echo it: compressed (RFC 7692 §7.2.1), or as it is.
    if DEFLATE {
        let outgoing = agreed.sending(Role::Server);
        // SAFETY: the only reference to the static storage, made once.
        let storage = Borrowed(unsafe { &mut *core::ptr::addr_of_mut!(DEFLATE_STORAGE) });
        let Ok(deflater) = Deflater::new(storage, outgoing.window_bits, Level::DEFAULT) else {
            fail()
        };
        let mut deflater = MessageDeflater::new(deflater, outgoing.no_context_takeover);
        let mut packed = [0u8; 32];
        let Ok(c) = deflater.compress(&text[..len], true, &mut packed) else {
            fail()
        };
        if !c.done {
            fail();
        }
        let (receiver, mut sender, shared) = conn.into_parts();
        match sender.start_compressed_message(
            &shared,
            DataKind::Text,
            true,
            c.produced as u64,
            &mut rng,
        ) {
            Ok(header) => socket.write(header.as_bytes()),
            Err(_) => fail(),
        }
        socket.write(&packed[..c.produced]);
        conn = Connection::from_parts(receiver, sender, shared);
    } else {
        match conn.encode_data(DataKind::Text, true, len as u64, &mut rng) {
            Ok(header) => socket.write(header.as_bytes()),
            Err(_) => fail(),
        }
        socket.write(&text[..len]);
    }

    // 4. The closing handshake (RFC 6455 §7).
    close_normally(&mut conn, socket, &mut rng);
}

#[no_mangle]
pub extern "C" fn rust_main() -> ! {
    run(inputs::PMD_REQUEST, serve)
}
