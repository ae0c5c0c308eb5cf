//! What the size binaries share (`size_server`, the permessage-deflate
//! endpoints of `size_pmd.rs`, and, for its ending, `size_baseline`): the
//! "socket" whose reads come from an input the optimizer cannot see
//! through and whose writes go to the host as hex, the randomness a server
//! never needs, the way out on failure, the report of the stack's peak, and
//! a panic handler that does not format (core::fmt would cost kilobytes).

use wslite::RandomSource;

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

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    rt::exit(false)
}
