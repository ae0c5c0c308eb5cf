//! The baseline of the size budget: the same runtime and the same inputs as
//! `size_server`, and no WebSocket. `size_server` minus this is what the
//! wslite server path costs.
#![no_std]
#![no_main]

#[path = "../inputs.rs"]
mod inputs;
#[path = "../rt.rs"]
#[allow(dead_code)]
mod rt;

use core::hint::black_box;

#[no_mangle]
pub extern "C" fn rust_main() -> ! {
    // "Receive" the inputs and "send" them back, through the same output
    // path the server uses.
    let request: &[u8] = black_box(inputs::REQUEST);
    let frame: &[u8] = black_box(inputs::FRAME);
    rt::print("out ");
    rt::print_hex(request);
    rt::print_hex(frame);
    rt::print("\n");
    let peak = rt::stack_peak();
    rt::print("stack: peak ");
    rt::print_dec(peak);
    rt::print(" bytes\n");
    rt::exit(true)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Does not format: core::fmt would cost kilobytes.
    rt::exit(false)
}
