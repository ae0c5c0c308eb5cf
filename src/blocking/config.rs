//! Every limit and timeout of a connection, with its default.
//!
//! *Bounded, always*: each number below has a default
//! that is safe for a server facing the open internet and a setter for
//! programs that know better. The defaults:
//!
//! | setting | default | why |
//! |---|---|---|
//! | `max_message_size` | 64 MiB | a whole message is kept in memory by [`read`](crate::WebSocket::read); 1009 past it |
//! | `max_frame_size` | 16 MiB | one frame; 1009 past it |
//! | `read_buffer_size` | 1 KiB | what an idle connection holds; grows on demand (doubling while reads fill it) and shrinks back after a burst |
//! | `max_read_buffer_size` | 64 KiB | the most the read buffer grows to for bulk transfers |
//! | `write_buffer_size` | 16 KiB | the most bytes of small frames gathered to send at once (a client masks a large borrowed payload through its own buffer of up to 1 MiB, one write per frame) |
//! | `auto_pong` | on | answer pings (RFC 6455 §5.5.2) |
//! | `handshake_timeout` | 10 s | a peer that stalls the handshake (slowloris) is dropped |
//! | `read_timeout` | none | [`read`](crate::WebSocket::read) waits as long as it takes; with a value, one `read` waits that long in all, however the peer trickles bytes; zero means do not wait (the shortest wait, 1 ms, so what has arrived is still returned) |
//! | `write_timeout` | 30 s | a peer that stops reading cannot hold a sending thread forever: one send (all its partial writes together) gets this long, then fails with `Error::WriteTimeout` and the connection is failed (a frame may be half written) |
//! | `close_timeout` | 5 s | the longest [`close`](crate::WebSocket::close) takes in all (our Close, the peer's answer, the end of TCP), and the longest a failed connection drains what the peer still sends |
//! | `keepalive` | 20 s | ping after 20 s of silence, fail if nothing (a pong or anything else) follows in 20 s more: a dead peer or a cut path is found within 40 s, and a quiet connection sends something every 20 s, well inside the 60 s idle cut of common proxies and load balancers (nginx `proxy_read_timeout`, AWS ALB); the values python-websockets uses |
//! | `idle_timeout` | none | with a value, a connection that receives no data message (pings and pongs do not count) for that long is closed with 1001: one client cannot hold a slot by trickling bytes or answering pings |
//! | `max_head_bytes`, `max_headers` | 8 KiB, 64 | handshake limits; HTTP 431 past them |
//! | `nodelay` | on | `TCP_NODELAY`: a frame goes out when written, not 40 ms later |
//! | `compression` | on: 4 KiB windows, level 6, messages of 1 KiB and up | permessage-deflate (RFC 7692, feature `deflate`): a client offers it, a server accepts it; see [`Compression`] |

use core::time::Duration;

use crate::handshake::Limits as HeadLimits;
use crate::protocol::Limits;

/// Limits, buffer sizes and timeouts of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The largest message accepted, in bytes.
    pub max_message_size: usize,
    /// The largest frame payload accepted, in bytes.
    pub max_frame_size: usize,
    /// The read buffer's starting size, and the size it shrinks back to.
    pub read_buffer_size: usize,
    /// The most the read buffer grows to while data streams in.
    pub max_read_buffer_size: usize,
    /// The most bytes gathered in memory to send at once.
    pub write_buffer_size: usize,
    /// Whether received pings are answered automatically.
    pub auto_pong: bool,
    /// The longest the opening handshake may take.
    pub handshake_timeout: Option<Duration>,
    /// The longest a read waits for the peer before [`Error::Timeout`](crate::Error::Timeout).
    pub read_timeout: Option<Duration>,
    /// The longest one send takes, all its partial writes together.
    pub write_timeout: Option<Duration>,
    /// The longest [`close`](crate::WebSocket::close) takes in all.
    pub close_timeout: Duration,
    /// Ping after this much silence from the peer; fail the connection with
    /// [`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout) if no pong
    /// (or anything else) arrives within the same time again.
    pub keepalive: Option<Duration>,
    /// Close a connection with 1001 (going away) and fail the read with
    /// [`Error::IdleTimeout`](crate::Error::IdleTimeout) when no data message
    /// arrives from the peer for this long. Checked while the connection is
    /// reading.
    pub idle_timeout: Option<Duration>,
    /// The longest handshake head accepted, in bytes.
    pub max_head_bytes: usize,
    /// The most handshake header fields accepted.
    pub max_headers: usize,
    /// Whether to set `TCP_NODELAY` on TCP sockets.
    pub nodelay: bool,
    /// permessage-deflate (RFC 7692): offered by a client and accepted by a
    /// server with these settings; `None` turns it off.
    #[cfg(feature = "deflate")]
    pub compression: Option<Compression>,
}

/// The settings of permessage-deflate (RFC 7692) for one connection.
///
/// The window sizes are powers of two, given as bits (8 to 15: 256 bytes to
/// 32 KiB): the farther back a compressor may refer, the better it
/// compresses repetitive data, and the more memory each connection holds
/// while it keeps that window between messages. The defaults, 12 bits
/// (4 KiB) each way, are python-websockets' windows; a connection that
/// compresses in both directions then keeps about 42 KiB between messages
/// (a 30 KiB deflater, a 4 KiB window and the inflater's tables). One that
/// has not sent or received a compressed message holds none of it, and
/// without context takeover none is kept between messages (see the memory
/// table in the README).
#[cfg(feature = "deflate")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compression {
    /// The compression level, 0 (store only) to 9 (smallest); 1 is the
    /// fastest that compresses, 6 the usual balance. Default 6.
    pub level: u8,
    /// The largest window the server compresses with (the client asks the
    /// server for at most this; a server uses at most this). Default 12.
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with (a server asks the
    /// client for at most this when the client lets it; a client uses at
    /// most this). Default 12.
    pub client_max_window_bits: u8,
    /// The server starts every message with an empty window (RFC 7692
    /// §7.1.1.1): less memory between messages, worse ratio. Default off.
    pub server_no_context_takeover: bool,
    /// The same for the client (§7.1.1.2). Default off.
    pub client_no_context_takeover: bool,
    /// Messages shorter than this are sent uncompressed: compressing a few
    /// bytes costs more time than it saves on the wire. Default 1 KiB (as
    /// node's `ws`); 0 compresses every message.
    pub threshold: usize,
}

#[cfg(feature = "deflate")]
impl Default for Compression {
    fn default() -> Self {
        Compression {
            level: 6,
            server_max_window_bits: 12,
            client_max_window_bits: 12,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            threshold: 1024,
        }
    }
}

#[cfg(feature = "deflate")]
impl Compression {
    /// Sets the compression level (0 to 9; higher values count as 9).
    pub fn level(mut self, level: u8) -> Self {
        self.level = level.min(9);
        self
    }

    /// Sets both window sizes, in bits (8 to 15; clamped to that range).
    pub fn window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(8, 15);
        self.client_max_window_bits = bits.clamp(8, 15);
        self
    }

    /// Sets the server's window, in bits (8 to 15; clamped).
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(8, 15);
        self
    }

    /// Sets the client's window, in bits (8 to 15; clamped).
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits.clamp(8, 15);
        self
    }

    /// Asks that the server start every message afresh.
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Asks that the client start every message afresh.
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets the size below which messages go uncompressed.
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// The negotiation's view of these settings.
    pub fn options(&self) -> crate::permessage_deflate::negotiation::DeflateOptions {
        crate::permessage_deflate::negotiation::DeflateOptions {
            server_max_window_bits: self.server_max_window_bits.clamp(8, 15),
            client_max_window_bits: self.client_max_window_bits.clamp(8, 15),
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_size: 64 << 20,
            max_frame_size: 16 << 20,
            read_buffer_size: 1 << 10,
            max_read_buffer_size: 64 << 10,
            write_buffer_size: 16 << 10,
            auto_pong: true,
            handshake_timeout: Some(Duration::from_secs(10)),
            read_timeout: None,
            write_timeout: Some(Duration::from_secs(30)),
            close_timeout: Duration::from_secs(5),
            keepalive: Some(Duration::from_secs(20)),
            idle_timeout: None,
            max_head_bytes: 8 << 10,
            max_headers: 64,
            nodelay: true,
            #[cfg(feature = "deflate")]
            compression: Some(Compression::default()),
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        impl Config {
            $(
                $(#[$doc])*
                pub fn $name(mut self, value: $ty) -> Self {
                    self.$name = value;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Sets the largest message accepted (at least 16 MiB for the Autobahn suite).
    max_message_size: usize;
    /// Sets the largest frame payload accepted.
    max_frame_size: usize;
    /// Sets the read buffer's starting size (at least 14 bytes, one frame header).
    read_buffer_size: usize;
    /// Sets the most the read buffer may grow to.
    max_read_buffer_size: usize;
    /// Sets the most bytes gathered in memory to send at once.
    write_buffer_size: usize;
    /// Turns automatic pongs on or off.
    auto_pong: bool;
    /// Sets the handshake timeout (`None`: wait forever).
    handshake_timeout: Option<Duration>;
    /// Sets the read timeout (`None`: wait forever).
    read_timeout: Option<Duration>;
    /// Sets the write timeout (`None`: wait forever).
    write_timeout: Option<Duration>;
    /// Sets how long `close` waits for the peer's Close.
    close_timeout: Duration;
    /// Sets the keepalive interval (`None`: no keepalive).
    keepalive: Option<Duration>;
    /// Sets the idle timeout (`None`: a connection may stay idle forever).
    idle_timeout: Option<Duration>;
    /// Sets the longest handshake head accepted.
    max_head_bytes: usize;
    /// Sets the most handshake header fields accepted.
    max_headers: usize;
    /// Turns `TCP_NODELAY` on or off.
    nodelay: bool;
}

#[cfg(feature = "deflate")]
setters! {
    /// Sets permessage-deflate's settings, or turns it off with `None`.
    compression: Option<Compression>;
}

impl Config {
    /// The core's receive limits.
    pub fn limits(&self) -> Limits {
        Limits::default()
            .max_frame_size(self.max_frame_size as u64)
            .max_message_size(self.max_message_size as u64)
    }

    /// The handshake parser's limits.
    pub fn head_limits(&self) -> HeadLimits {
        HeadLimits::new()
            .with_max_head_bytes(self.max_head_bytes)
            .with_max_headers(self.max_headers)
    }
}

impl Config {
    /// Applies the socket settings of this configuration to a socket.
    pub(crate) fn apply_to<S>(&self, stream: &S, ops: &super::SocketOps<S>) -> std::io::Result<()> {
        (ops.set_read_timeout)(stream, super::receiving::ReadHalf::wake_interval(self))?;
        (ops.set_write_timeout)(stream, super::stream::socket_timeout(self.write_timeout))
    }
}
