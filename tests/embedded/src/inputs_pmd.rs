//! What the permessage-deflate size endpoints (`size_inflate_w*`,
//! `size_codec_w*`) "receive": the RFC 6455 §1.3 request with a
//! permessage-deflate offer that lets the server limit the client's window
//! (RFC 7692 §7.1.2.2), and RFC 7692 §7.2.3.1's compressed "Hello", masked
//! with RFC 6455 §5.7's key. Read through `black_box`, like `inputs.rs`.

/// RFC 6455 §1.3's request plus `Sec-WebSocket-Extensions`.
pub static REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// RFC 7692 §7.2.3.1 (`f2 48 cd c9 c9 07 00`, "Hello"), RSV1 set, masked
/// with `37 fa 21 3d`.
pub static FRAME: &[u8] = &[
    0xc1, 0x87, 0x37, 0xfa, 0x21, 0x3d, 0xc5, 0xb2, 0xec, 0xf4, 0xfe, 0xfd, 0x21,
];
