//! What the on-target test runners (`tests`, `inflate`) share: `check!`
//! and `ok!`, which fail the current test (a plain `fn() -> bool`) and
//! print the line, and the panic handler, which prints where without
//! formatting the message (no core::fmt needed); and the printout of
//! the sizes of the types a test names.

/// Fails the current test, printing the line, unless `cond` holds.
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            $crate::rt::print("    check failed: line ");
            $crate::rt::print_dec(line!());
            $crate::rt::print(": ");
            $crate::rt::print(stringify!($cond));
            $crate::rt::print("\n");
            return false;
        }
    };
}

/// Unwraps an `Ok`, or fails the current test.
macro_rules! ok {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(_) => {
                check!(false);
                unreachable!()
            }
        }
    };
}

/// Prints the size of each named type, a line each.
pub fn print_sizes(sizes: &[(&str, usize)]) {
    for (name, size) in sizes {
        crate::rt::print("  size_of ");
        crate::rt::print(name);
        crate::rt::print(" = ");
        crate::rt::print_dec(*size as u32);
        crate::rt::print("\n");
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::rt::print("PANIC");
    if let Some(location) = info.location() {
        crate::rt::print(" at ");
        crate::rt::print(location.file());
        crate::rt::print(":");
        crate::rt::print_dec(location.line());
    }
    crate::rt::print("\n");
    crate::rt::exit(false)
}
