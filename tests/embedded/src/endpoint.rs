//! What the size binaries share (`size_server`, the permessage-deflate
//! endpoints of `size_pmd.rs`, and, for its ending, `size_baseline`): the
//! "socket" whose reads come from an input the optimizer cannot see
//! through and whose writes go to the host as hex, the randomness a server
//! never needs, the way out on failure, the sending of queued control
//! frames, the closing Close 1000, the run
//! around `serve` with the report of the stack's peak, and a panic handler
//! that does not format (core::fmt would cost kilobytes).
//!
//! What `size_server` calls here is `#[inline(always)]`, as it was written
//! out in place before it had a home: the budget counts every byte, and
//! with the inlining `run.sh` reports the same flash delta as before the
//! move (+8186 B on thumbv7em; without it, 12 B more).

use core::hint::black_box;

use wslite::protocol::Connection;
use wslite::{CloseCode, RandomSource};

use crate::rt;

/// A server never masks, so it never asks for randomness (RFC 6455 §5.1).
pub struct NoRandom;

impl RandomSource for NoRandom {
    fn fill_bytes(&mut self, _: &mut [u8]) {}
}

/// The "socket": reads come from an input the optimizer cannot see through,
/// writes go to the host.
pub struct Socket {
    pub input: &'static [u8],
}

impl Socket {
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = self.input.len().min(buf.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        n
    }

    pub fn write(&mut self, bytes: &[u8]) {
        rt::print_hex(bytes);
    }
}

pub fn fail() -> ! {
    rt::print("\nFAIL\n");
    rt::exit(false)
}

/// Ends the line of bytes sent, prints the stack's peak for `run.sh` and
/// exits with success. Inlined, as it was written out in each `rust_main`
/// before it had a home here (the budget counts every byte).
#[inline(always)]
pub fn report_stack_and_exit() -> ! {
    rt::print("\n");
    let peak = rt::stack_peak();
    rt::print("stack: peak ");
    rt::print_dec(peak);
    rt::print(" bytes\n");
    rt::exit(true)
}

/// The whole run of a size endpoint: `serve` the `request` (through
/// `black_box`) and what follows it, on one line of bytes sent, then the
/// stack report. Inlined into `rust_main`, where it was written out before.
#[inline(always)]
pub fn run(request: &'static [u8], serve: fn(&mut Socket)) -> ! {
    let mut socket = Socket {
        input: black_box(request),
    };
    rt::print("out ");
    serve(&mut socket);
    report_stack_and_exit()
}

/// Sends the control frames the connection queued (a Pong, or the Close
/// that answers a violation with its code).
#[inline(always)]
pub fn send_pending(conn: &mut Connection, socket: &mut Socket, rng: &mut NoRandom) {
    while let Some(frame) = conn.take_pending(rng) {
        socket.write(frame.as_bytes());
    }
}

/// The closing handshake (RFC 6455 §7): Close 1000.
#[inline(always)]
pub fn close_normally(conn: &mut Connection, socket: &mut Socket, rng: &mut NoRandom) {
    match conn.encode_close(CloseCode::NORMAL, "", rng) {
        Ok(frame) => socket.write(frame.as_bytes()),
        Err(_) => fail(),
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    rt::exit(false)
}
