//! The bytes the size binaries "receive": the opening request of RFC 6455
//! §1.3 and the masked text frame "Hello" of §5.7 (the test runner checks
//! the same request). Both the server and the baseline link them (the baseline prints them), so the flash delta counts
//! code, not test input. They are read through `black_box`, so the
//! optimizer cannot compute the answers at compile time.

/// RFC 6455 §1.3, the client's handshake (Origin and the subprotocol offer
/// included, as in the RFC).
pub static REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// RFC 6455 §5.7, "A single-frame masked text message": "Hello".
pub static FRAME: &[u8] = &[
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];
