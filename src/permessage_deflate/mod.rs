//! permessage-deflate (RFC 7692): WebSocket messages compressed with
//! DEFLATE (RFC 1951, module [`crate::deflate`]).
//!
//! WebSocket (RFC 6455 §9) lets the two ends agree on *extensions* during
//! the opening handshake. RFC 7692 defines a family of them, the
//! per-message compression extensions (§4), and one member,
//! `permessage-deflate` (§7): each data message may be sent compressed, as
//! one DEFLATE stream, and the first frame says so by setting RSV1.
//!
//! **Negotiation (§5, §7.1).** The client lists what it offers in its
//! `Sec-WebSocket-Extensions` header, most preferred first, possibly the same
//! extension several times with different parameters:
//!
//! ```text
//! Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=10,
//!                           permessage-deflate; client_max_window_bits
//! ```
//!
//! The server accepts at most one offer, answering with the *agreed
//! parameters*, or declines them all by not naming the extension. Each
//! parameter is prefixed with the side whose *compressor* it constrains
//! (§7): `server_…` for the server's compressor (and so the client's
//! decompressor), `client_…` for the client's. There are four (§7.1):
//!
//! | parameter                    | what it means in the agreement                            |
//! |------------------------------|-----------------------------------------------------------|
//! | `server_no_context_takeover` | the server resets its LZ77 window after each message       |
//! | `client_no_context_takeover` | the client does                                            |
//! | `server_max_window_bits=N`   | the server's LZ77 window is at most 2^N bytes, N in 8..=15 |
//! | `client_max_window_bits=N`   | the client's is                                            |
//!
//! The window is the memory the *receiver* must keep: a back-reference may
//! reach that far back (RFC 1951 §3.2.5). "Context takeover" means the next
//! message may refer back into the previous one, so a receiver keeps its
//! window between messages unless the agreement says otherwise. Both limits
//! exist so that a small device can ask for small, short-lived windows.
//!
//! **Per-message compression (§7.2).** A sender compresses the whole
//! message as DEFLATE blocks, ends them with an empty stored block flushed
//! to a byte boundary (what zlib calls a sync flush), and then *removes*
//! the last four bytes, which are always `00 00 ff ff` (the empty stored
//! block's LEN and NLEN). It sends the rest with RSV1 set on the first
//! frame only. The receiver puts `00 00 ff ff` back and inflates. The bytes
//! on the wire are not text even in a text message; the UTF-8 check applies
//! to what inflating gives back (§6).
//!
//! Reading order:
//!
//! 1. [`negotiation`]: the offer a client writes, the choice a server makes
//!    and the answer it writes, and the client's check of that answer, down
//!    to each parameter's grammar. What comes out is an
//!    [`Agreed`](negotiation::Agreed), which says how each direction
//!    compresses.

pub mod message;
pub mod negotiation;
