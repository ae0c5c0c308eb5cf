//! The bytes the size binaries "receive": the opening request of RFC 6455
//! §1.3 and the masked text frame "Hello" of §5.7 (the test runner checks
//! the same request). Both the server and the baseline link them (the baseline prints them), so the flash delta counts
//! code, not test input. They are read through `black_box`, so the
//! optimizer cannot compute the answers at compile time.
//!
//! The permessage-deflate size endpoints (`size_inflate_w*`,
//! `size_codec_w*`) receive [`PMD_REQUEST`], the same request with a
//! permessage-deflate offer that lets the server limit the client's window
//! (RFC 7692 §7.1.2.2), and [`PMD_FRAME`], RFC 7692 §7.2.3.1's compressed
//! "Hello", masked with RFC 6455 §5.7's key.

#![allow(dead_code)] // each binary uses the pair it needs

/// RFC 6455 §1.3's request, the client's handshake (Origin and the
/// subprotocol offer included, as in the RFC), with the header lines
/// `$extra` before the version.
macro_rules! rfc6455_request {
    ($($extra:literal)*) => {
        concat!(
            "GET /chat HTTP/1.1\r\n",
            "Host: server.example.com\r\n",
            "Upgrade: websocket\r\n",
            "Connection: Upgrade\r\n",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            "Origin: http://example.com\r\n",
            "Sec-WebSocket-Protocol: chat, superchat\r\n",
            $($extra,)*
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        .as_bytes()
    };
}

/// RFC 6455 §1.3, as it stands.
pub static REQUEST: &[u8] = rfc6455_request!();

/// RFC 6455 §5.7, "A single-frame masked text message": "Hello".
pub static FRAME: &[u8] = &[
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

/// RFC 6455 §1.3's request plus `Sec-WebSocket-Extensions`.
pub static PMD_REQUEST: &[u8] =
    rfc6455_request!("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");

/// RFC 7692 §7.2.3.1 (`f2 48 cd c9 c9 07 00`, "Hello"), RSV1 set, masked
/// with `37 fa 21 3d`.
pub static PMD_FRAME: &[u8] = &[
    0xc1, 0x87, 0x37, 0xfa, 0x21, 0x3d, 0xc5, 0xb2, 0xec, 0xf4, 0xfe, 0xfd, 0x21,
];
