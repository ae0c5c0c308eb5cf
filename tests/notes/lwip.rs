// Stand-ins for what the lwIP block of no_std_notes.md uses: lwIP's raw TCP
// API as bindgen writes it (lwIP 2.x: err_t is s8, the lengths u16_t), and
// the application's connection state. The doctest only compiles the block.

use core::ffi::c_void;

#[allow(non_camel_case_types)]
type err_t = i8;
const ERR_OK: err_t = 0;
const TCP_WRITE_FLAG_COPY: u32 = 0x01;

#[repr(C)]
#[allow(non_camel_case_types)]
struct tcp_pcb {
    _opaque: [u8; 0],
}

#[repr(C)]
#[allow(non_camel_case_types)]
struct pbuf {
    next: *mut pbuf,
    payload: *mut c_void,
    tot_len: u16,
    len: u16,
}

unsafe extern "C" fn tcp_close(_pcb: *mut tcp_pcb) -> err_t {
    ERR_OK
}
unsafe extern "C" fn tcp_write(
    _pcb: *mut tcp_pcb,
    _data: *const c_void,
    _len: u16,
    _flags: u8,
) -> err_t {
    ERR_OK
}
unsafe extern "C" fn tcp_output(_pcb: *mut tcp_pcb) -> err_t {
    ERR_OK
}
unsafe extern "C" fn tcp_recved(_pcb: *mut tcp_pcb, _len: u16) {}
unsafe extern "C" fn pbuf_copy_partial(
    _p: *const pbuf,
    _data: *mut c_void,
    _len: u16,
    _offset: u16,
) -> u16 {
    0
}
unsafe extern "C" fn pbuf_free(_p: *mut pbuf) -> u8 {
    1
}

/// The application's state for one connection (the `arg` of its pcb).
struct WsConn {
    conn: wslite::protocol::Connection,
    buf: [u8; 1024],
    filled: usize,
}

impl WsConn {
    /// The frame loop of "The loop, independent of the network stack".
    fn process(&mut self) {}
    /// The frames to send: control replies first, then the application's.
    fn outgoing(&mut self) -> core::iter::Empty<&[u8]> {
        core::iter::empty()
    }
}
