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
//! | [`stream`] | what a stream needs beyond `Read + Write` (timeouts, shutdown, shared handles), and waits bounded as operations |
//! | `receiving` | the receiving half: the core's `Receiver` over a stream's reading side |
//! | `sending` | the sending half: the core's `Sender` over a stream's writing side |
//! | [`socket`] | `WebSocket<S>`: both halves on one thread; read, send, close, streaming |
//! | [`split`] | the halves on two threads: a reader and a cloneable writer, one socket |
//! | [`prepared`] | `PreparedMessage`: one message framed (and compressed) once for many server connections |
//! | [`request`] | the opening request, owned, for the server's handler |
//! | [`accept`](mod@accept) | the server side of the handshake over any stream |
//! | [`server`] | a thread-per-connection `Server` |
//! | `refusal` | 503 and 429 answered from the accepting thread in microseconds; the reserve descriptor |
//! | `os_limits` | the descriptor limit, and what else bounds the connection count on Linux |
//! | [`client`] | `connect("ws://…")`, the client side of the handshake |
//! | [`url`] | `ws://` URLs (RFC 6455 §3) |
//! | [`proxy`] | HTTP `CONNECT` and SOCKS5 proxies for the client, and the `*_proxy` environment |
//! | [`random`] | masking keys and handshake keys from the OS (RFC 6455 §10.3) |

pub mod accept;
pub mod client;
#[cfg(feature = "deflate")]
mod compression;
pub mod config;
pub mod message;
mod os_limits;
pub mod prepared;
pub mod proxy;
pub mod random;
mod receiving;
mod refusal;
pub mod request;
mod sending;
pub mod server;
pub mod socket;
pub mod split;
pub mod stream;
pub mod url;

pub use accept::{accept, accept_with, Accept, HttpResponse};
pub use client::{client_handshake, connect, ClientBuilder};
#[cfg(feature = "deflate")]
pub use config::Compression;
pub use config::Config;
pub use message::{CloseFrame, Message};
pub use prepared::PreparedMessage;
pub use proxy::{Proxy, ProxyKind};
pub use request::HttpRequest;
pub use server::{Server, ServerHandle};
pub use socket::{MessageReader, MessageWriter, WebSocket};
pub use split::{WsMessageWriter, WsReader, WsWriter};
pub use stream::{SharedStream, SocketOps};

impl From<url::UrlError> for crate::Error {
    fn from(e: url::UrlError) -> Self {
        match e {
            url::UrlError::Invalid(what) => crate::Error::InvalidUrl(what),
            url::UrlError::TlsNotSupported => crate::Error::TlsNotSupported,
        }
    }
}
