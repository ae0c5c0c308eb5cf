//! The blocking layer over `std::io` and `std::net` (feature `std`).
//!
//! Everything here drives the one protocol core ([`crate::protocol`],
//! [`crate::handshake`]) and adds only what an operating system offers:
//! streams, threads, clocks and its random number generator.
//!
//! | module | what it adds |
//! |---|---|
//! | [`message`] | whole messages (`Message`) instead of pieces of frames |
//! | [`config`] | every limit and timeout, with defaults |
//! | [`socket`] | `WebSocket<S>` over any `Read + Write`: read, send, close, streaming |
//! | [`split`] | a reader half and a cloneable writer half for full duplex across threads |
//! | [`server`] | the server side of the handshake, and a thread-per-connection `Server` |
//! | [`client`] | `connect("ws://…")`, the client side of the handshake |
//! | [`url`] | `ws://` URLs (RFC 6455 §3) |
//! | [`random`] | masking keys and handshake keys from the OS (RFC 6455 §10.3) |

pub mod client;
pub mod config;
mod engine;
pub mod message;
pub mod random;
pub mod server;
pub mod socket;
pub mod split;
pub mod url;

pub use client::{client_handshake, connect, ClientBuilder};
pub use config::Config;
pub use engine::SocketOps;
pub use message::{CloseFrame, Message};
pub use server::{
    accept, accept_with, Accept, HttpResponse, Reject, Server, ServerBuilder, ServerHandle,
};
pub use socket::{MessageReader, MessageWriter, WebSocket};
pub use split::{TryCloneStream, WsReader, WsWriter};

impl From<url::UrlError> for crate::Error {
    fn from(e: url::UrlError) -> Self {
        match e {
            url::UrlError::Invalid(what) => crate::Error::InvalidUrl(what),
            url::UrlError::TlsNotSupported => crate::Error::TlsNotSupported,
        }
    }
}
