//! The baseline of the size budget: the same runtime and the same inputs as
//! `size_server`, and no WebSocket. `size_server` minus this is what the
//! wslite server path costs.
#![no_std]
#![no_main]

#[path = "../endpoint.rs"]
#[allow(dead_code)]
mod endpoint;
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
    endpoint::report_stack_and_exit()
}
