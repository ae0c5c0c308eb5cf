//! The runtime shared by every binary of this package, written without
//! crates: reset code (copy `.data`, zero `.bss`, paint the stack), the
//! exception vectors, semihosting (console output and exit), and the stack
//! measurement. The test runner and both size binaries include it with
//! `#[path = "../rt.rs"] mod rt;`, so the size baseline carries exactly the
//! same runtime as the size server.
//!
//! Semihosting (Arm "Semihosting for AArch32 and AArch64", used by QEMU for
//! both Arm and RISC-V): the program traps with an operation number in
//! r0/a0 and a parameter in r1/a1. `SYS_WRITE0` (0x04) prints a
//! NUL-terminated string to QEMU's stderr; `SYS_EXIT` (0x18) with
//! `ADP_Stopped_ApplicationExit` (0x20026) makes QEMU exit 0, any other
//! reason exit 1.

use core::arch::global_asm;

/// Every word of free RAM is set to this at reset; the deepest word that no
/// longer holds it marks the stack's peak.
pub const PAINT: u32 = 0x5AA5_C33C;

const SYS_WRITE0: usize = 0x04;
const SYS_EXIT: usize = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;
const ADP_STOPPED_RUN_TIME_ERROR: usize = 0x20023;

// ---------------------------------------------------------------------------
// Cortex-M: vector table and reset handler, in Thumb-1 instructions so that
// one source serves v6-M (Cortex-M0) and v7E-M (Cortex-M4F).
// ---------------------------------------------------------------------------
#[cfg(target_arch = "arm")]
global_asm!(
    r#"
    .syntax unified
    .thumb

    .section .vector_table, "a"
    .word Reset
    .rept 14
    .word wslite_rt_fault
    .endr

    .section .text.Reset, "ax"
    .global Reset
    .type Reset, %function
    .thumb_func
Reset:
    ldr r0, =__sdata
    ldr r1, =__edata
    ldr r2, =__sidata
1:  cmp r0, r1
    bhs 2f
    ldr r3, [r2]
    str r3, [r0]
    adds r0, #4
    adds r2, #4
    b 1b
2:  ldr r0, =__sbss
    ldr r1, =__ebss
    movs r3, #0
3:  cmp r0, r1
    bhs 4f
    str r3, [r0]
    adds r0, #4
    b 3b
4:  ldr r3, ={paint}
    mov r1, sp
5:  cmp r0, r1
    bhs 6f
    str r3, [r0]
    adds r0, #4
    b 5b
6:  bl wslite_rt_pre_init
    bl rust_main
    b .
    .ltorg
    "#,
    paint = const PAINT,
);

// The Cortex-M4F's FPU is off after reset; code built for eabihf may use its
// registers, so it is enabled (CPACR: full access to CP10 and CP11) before
// any Rust code runs.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
global_asm!(
    r#"
    .syntax unified
    .thumb
    .section .text.wslite_rt_pre_init, "ax"
    .global wslite_rt_pre_init
    .type wslite_rt_pre_init, %function
    .thumb_func
wslite_rt_pre_init:
    ldr r0, =0xE000ED88
    ldr r1, [r0]
    ldr r2, =0x00F00000
    orrs r1, r2
    str r1, [r0]
    dsb
    isb
    bx lr
    .ltorg
    "#
);

#[cfg(all(target_arch = "arm", not(target_abi = "eabihf")))]
global_asm!(
    r#"
    .syntax unified
    .thumb
    .section .text.wslite_rt_pre_init, "ax"
    .global wslite_rt_pre_init
    .type wslite_rt_pre_init, %function
    .thumb_func
wslite_rt_pre_init:
    bx lr
    "#
);

#[cfg(target_arch = "arm")]
#[inline(always)]
unsafe fn semihost(op: usize, arg: usize) -> usize {
    let ret;
    core::arch::asm!("bkpt #0xab", inout("r0") op => ret, in("r1") arg, options(nostack));
    ret
}

// ---------------------------------------------------------------------------
// RISC-V (RV32, machine mode): `_start` at 0x80000000, a trap vector, and the
// semihosting trap sequence. The sequence must be three *uncompressed*
// instructions on one page, so it lives in its own 16-byte-aligned function.
// ---------------------------------------------------------------------------
#[cfg(target_arch = "riscv32")]
global_asm!(
    r#"
    .section .text.init, "ax"
    .global _start
_start:
    .option push
    .option norelax
    la sp, _stack_top
    .option pop
    la t0, wslite_rt_trap
    csrw mtvec, t0
    la t0, __sdata
    la t1, __edata
    la t2, __sidata
1:  bgeu t0, t1, 2f
    lw t3, 0(t2)
    sw t3, 0(t0)
    addi t0, t0, 4
    addi t2, t2, 4
    j 1b
2:  la t0, __sbss
    la t1, __ebss
3:  bgeu t0, t1, 4f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 3b
4:  li t3, {paint}
5:  bgeu t0, sp, 6f
    sw t3, 0(t0)
    addi t0, t0, 4
    j 5b
6:  call rust_main
7:  j 7b

    .section .text.wslite_rt_trap, "ax"
    .balign 4
wslite_rt_trap:
    la sp, _stack_top
    call wslite_rt_fault

    .section .text.wslite_rt_semihost, "ax"
    .global wslite_rt_semihost
    .balign 16
wslite_rt_semihost:
    .option push
    .option norvc
    slli zero, zero, 0x1f
    ebreak
    srai zero, zero, 7
    .option pop
    ret
    "#,
    paint = const PAINT,
);

#[cfg(target_arch = "riscv32")]
extern "C" {
    fn wslite_rt_semihost(op: usize, arg: usize) -> usize;
}

#[cfg(target_arch = "riscv32")]
#[inline(always)]
unsafe fn semihost(op: usize, arg: usize) -> usize {
    wslite_rt_semihost(op, arg)
}

// ---------------------------------------------------------------------------
// What the binaries use.
// ---------------------------------------------------------------------------

/// Any exception or trap: a fault in the code under test. Say so and fail.
#[no_mangle]
extern "C" fn wslite_rt_fault() -> ! {
    print("FAULT: hard fault / trap\n");
    exit(false)
}

/// Ends the program; QEMU exits 0 if `success`, 1 otherwise.
pub fn exit(success: bool) -> ! {
    let reason = if success {
        ADP_STOPPED_APPLICATION_EXIT
    } else {
        ADP_STOPPED_RUN_TIME_ERROR
    };
    loop {
        // SAFETY: semihosting call; on 32-bit targets the parameter of
        // SYS_EXIT is the reason code itself.
        unsafe { semihost(SYS_EXIT, reason) };
    }
}

/// Prints bytes (no NULs expected) to the host, in NUL-terminated chunks.
#[inline(never)]
pub fn print_bytes(bytes: &[u8]) {
    let mut chunk = [0u8; 48];
    for piece in bytes.chunks(chunk.len() - 1) {
        chunk[..piece.len()].copy_from_slice(piece);
        chunk[piece.len()] = 0;
        // SAFETY: semihosting SYS_WRITE0 reads the NUL-terminated string.
        unsafe { semihost(SYS_WRITE0, chunk.as_ptr() as usize) };
    }
}

/// Prints a string.
pub fn print(s: &str) {
    print_bytes(s.as_bytes());
}

/// Prints an unsigned number in decimal, without `core::fmt`.
#[inline(never)]
pub fn print_dec(mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    print_bytes(&digits[i..]);
}

/// Prints bytes as lowercase hex, without `core::fmt`.
#[inline(never)]
pub fn print_hex(bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut line = [0u8; 32];
    for piece in bytes.chunks(line.len() / 2) {
        for (i, b) in piece.iter().enumerate() {
            line[2 * i] = DIGITS[usize::from(b >> 4)];
            line[2 * i + 1] = DIGITS[usize::from(b & 15)];
        }
        print_bytes(&line[..2 * piece.len()]);
    }
}

extern "C" {
    static __ebss: u32;
    static _stack_top: u32;
}

/// The most stack used since reset, in bytes: the distance from the top of
/// RAM to the deepest word that no longer holds [`PAINT`].
#[inline(never)]
pub fn stack_peak() -> u32 {
    // SAFETY: the words between the end of .bss and the top of RAM were
    // painted at reset and belong to no Rust object but the stack; reading
    // them is reading plain RAM.
    unsafe {
        let mut p = core::ptr::addr_of!(__ebss) as usize;
        let top = core::ptr::addr_of!(_stack_top) as usize;
        while p < top && core::ptr::read_volatile(p as *const u32) == PAINT {
            p += 4;
        }
        (top - p) as u32
    }
}

/// Paints the free stack below the caller's frame again, so that the next
/// [`stack_peak`] tells the deepest the stack went since this call: the
/// test runners use it to measure each test on its own.
#[inline(never)]
pub fn repaint_stack() {
    let marker = 0u32;
    let here = core::hint::black_box(core::ptr::addr_of!(marker)) as usize;
    // SAFETY: the words from the end of .bss up to this function's own
    // frame (with a margin for its locals) are free stack: no live object
    // is there, so overwriting them is writing unused RAM.
    unsafe {
        let mut p = core::ptr::addr_of!(__ebss) as usize;
        let end = here.saturating_sub(64) & !3;
        while p < end {
            core::ptr::write_volatile(p as *mut u32, PAINT);
            p += 4;
        }
    }
}

/// The size of free RAM between the end of .bss and the top (the most the
/// stack may grow to).
#[allow(unused_unsafe)] // needed before Rust 1.82
pub fn stack_room() -> u32 {
    // SAFETY: only the addresses of linker symbols are taken.
    unsafe {
        (core::ptr::addr_of!(_stack_top) as usize - core::ptr::addr_of!(__ebss) as usize) as u32
    }
}
