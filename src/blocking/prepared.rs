//! One message for many connections, encoded once (RFC 6455 §5.1, §5.3;
//! RFC 7692 §7.1.1): a [`PreparedMessage`] holds the frame a server sends
//! for it, header and payload, built once and shared by every connection it
//! goes to.
//!
//! A chat room, a dashboard or a game server sends the same message to many
//! connections. Sent with [`send_text`](super::WsWriter::send_text), it is
//! framed (and, with permessage-deflate, compressed) once per connection.
//! What the reader learns here is why, on a server, once is enough, and
//! when it is not.
//!
//! **Why one encoding serves every server connection.** A server must not
//! mask its frames (§5.1), so its frame for a message depends on nothing
//! but the message: the same bytes are right on every connection. A
//! `PreparedMessage` builds them once, in one allocation shared by all its
//! clones (cloning it is a reference count), and
//! [`WsWriter::send_prepared`](super::WsWriter::send_prepared) writes them
//! as they are: one vectored write of whatever frames were waiting (an owed
//! pong) followed by the prepared bytes, with no copy per connection.
//! Every connection's sender still accounts for the frame (the core checks
//! that the connection is open and no fragmented message is in progress,
//! §5.4, and gives the frame's header, which must be the prepared one).
//!
//! **Why not a client's.** A client masks every frame with a fresh,
//! unpredictable key (§5.3), so no two of its frames are alike, and none can
//! be made ahead. The key is there for intermediaries (§10.3): a script in
//! a browser chooses what its client sends, and without a mask it could
//! choose bytes that a proxy which does not understand WebSocket reads as an
//! HTTP request and answer, poisoning the proxy's cache for everybody. On a
//! client's connection `send_prepared` therefore sends the message the
//! ordinary way, masking a copy; it is correct there, only not faster.
//!
//! **Compression, shared only without context takeover.** With
//! permessage-deflate, a message is compressed with the LZ77 window of what
//! the connection sent before (RFC 7692 §7.2.1): with context takeover,
//! that window carries the connection's earlier messages, so the same
//! message compresses to different bytes on every connection, and each must
//! compress it with its own deflater (the ordinary path). When our
//! direction has no context takeover (`server_no_context_takeover` for a
//! server, §7.1.1.1), every message starts from an empty window, and the
//! compressed bytes depend only on the message, the window size and the
//! level. So the first connection with a given (window bits, level) pair
//! compresses the message; the frame (RSV1 set on it, §6.1) is kept in the
//! `PreparedMessage` and every other connection with the same pair sends
//! it as it is. A handful of pairs exist at most (8 window sizes, 10
//! levels), so the cache is a short list, bounded by construction. Whether
//! a message is compressed at all is still each connection's choice (its
//! [`Compression::threshold`](super::Compression::threshold)).

use std::boxed::Box;
use std::sync::Arc;
#[cfg(feature = "deflate")]
use std::sync::Mutex;
use std::vec::Vec;

use super::message::Message;
use crate::error::{Error, Result};
use crate::protocol::{DataKind, Role, Sender, Shared};
use crate::random::RandomSource;

#[cfg(feature = "deflate")]
use crate::deflate::deflate::{Deflater, Level};
#[cfg(feature = "deflate")]
use crate::permessage_deflate::message::MessageDeflater;

/// A text or binary message framed once for any number of server
/// connections; see the [module documentation](self). Cheap to clone,
/// `Send` and `Sync`: one value can be handed to many sending threads.
///
/// ```no_run
/// use std::net::TcpStream;
/// use wslite::{PreparedMessage, WsWriter};
///
/// fn broadcast(members: &[WsWriter<TcpStream>], text: &str) {
///     let message = PreparedMessage::text(text);
///     for member in members {
///         // A member that is gone does not stop the others.
///         let _ = member.send_prepared(&message);
///     }
/// }
/// ```
#[derive(Clone)]
pub struct PreparedMessage {
    inner: Arc<Inner>,
}

/// What every clone shares.
struct Inner {
    kind: DataKind,
    /// The uncompressed frame.
    plain: Frame,
    /// The compressed frames made so far, one per (window bits, level).
    #[cfg(feature = "deflate")]
    compressed: Mutex<Vec<Compressed>>,
}

/// A whole frame, header then payload, in one buffer.
pub(crate) struct Frame {
    bytes: Box<[u8]>,
    header_len: usize,
}

impl Frame {
    /// The frame a server's sender gives a whole message of `kind` with
    /// this payload, compressed (RSV1) or not. It is the core that encodes
    /// it, on a fresh server connection, exactly as it does on every open
    /// one; each connection checks the header again when it sends.
    fn new(kind: DataKind, compressed: bool, payload: &[u8]) -> Frame {
        let mut sender = Sender::new(Role::Server);
        let shared = Shared::new();
        let len = payload.len() as u64;
        let header = match compressed {
            #[cfg(feature = "deflate")]
            true => {
                sender.enable_compression();
                sender.start_compressed_message(&shared, kind, true, len, &mut NoKeys)
            }
            _ => sender.start_message(&shared, kind, true, len, &mut NoKeys),
        };
        // A header the core refused (no payload is that long) is left
        // empty: no connection's header matches it, so each sends the
        // header its own core gives, or the core's error.
        let header = header.as_ref().map(|h| h.as_bytes()).unwrap_or_default();
        let mut bytes = Vec::with_capacity(header.len() + payload.len());
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(payload);
        Frame {
            bytes: bytes.into_boxed_slice(),
            header_len: header.len(),
        }
    }

    /// The whole frame.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The frame's header.
    pub(crate) fn header(&self) -> &[u8] {
        self.bytes.get(..self.header_len).unwrap_or_default()
    }

    /// The frame's payload.
    pub(crate) fn payload(&self) -> &[u8] {
        self.bytes.get(self.header_len..).unwrap_or_default()
    }
}

/// A server never masks, so its sender never asks for a key.
struct NoKeys;

impl RandomSource for NoKeys {
    fn fill_bytes(&mut self, _dest: &mut [u8]) {}
}

/// One compressed encoding: for connections that compress with this window
/// and level, without context takeover. `None`: the compressor could not be
/// made, and such connections use their own.
#[cfg(feature = "deflate")]
struct Compressed {
    window_bits: u8,
    level: Level,
    frame: Option<Arc<Frame>>,
}

impl PreparedMessage {
    /// A text message.
    pub fn text(text: &str) -> Self {
        Self::new(DataKind::Text, text.as_bytes())
    }

    /// A binary message.
    pub fn binary(data: &[u8]) -> Self {
        Self::new(DataKind::Binary, data)
    }

    /// Text must be UTF-8: the callers pass a `&str`'s bytes for it.
    fn new(kind: DataKind, payload: &[u8]) -> Self {
        PreparedMessage {
            inner: Arc::new(Inner {
                kind,
                plain: Frame::new(kind, false, payload),
                #[cfg(feature = "deflate")]
                compressed: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> DataKind {
        self.inner.kind
    }

    /// The message's data (for text, its UTF-8 bytes).
    pub fn payload(&self) -> &[u8] {
        self.inner.plain.payload()
    }

    /// The message's length in bytes, uncompressed.
    pub fn len(&self) -> usize {
        self.payload().len()
    }

    /// Whether the message has no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame a server sends for this message uncompressed, header and
    /// payload, as it goes on the wire.
    pub fn frame(&self) -> &[u8] {
        self.inner.plain.bytes()
    }

    /// The uncompressed frame.
    pub(crate) fn plain(&self) -> &Frame {
        &self.inner.plain
    }

    /// How many compressed encodings this message holds: one per distinct
    /// (window size, level) among the connections without context takeover
    /// it was sent to compressed. Connections with context takeover
    /// compress it themselves and add none.
    #[cfg(feature = "deflate")]
    pub fn compressed_encodings(&self) -> usize {
        self.cache().len()
    }

    #[cfg(feature = "deflate")]
    fn cache(&self) -> std::sync::MutexGuard<'_, Vec<Compressed>> {
        // A thread that panicked while holding the lock left the list
        // whole: every change is one push.
        self.inner
            .compressed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The compressed frame for connections that compress with a window of
    /// `window_bits` at `level` and no context takeover, made on first use.
    /// `None` when no compressor could be made for them.
    ///
    /// The lock is held while the first compression runs, so that a
    /// message is compressed once per pair even when many threads send it
    /// at the same moment: the others would each compress it otherwise,
    /// which is the work this type exists to save.
    #[cfg(feature = "deflate")]
    pub(crate) fn compressed(&self, window_bits: u8, level: Level) -> Option<Arc<Frame>> {
        let mut cache = self.cache();
        if let Some(known) = cache
            .iter()
            .find(|c| c.window_bits == window_bits && c.level == level)
        {
            return known.frame.clone();
        }
        let frame = compress_alone(self.kind(), self.payload(), window_bits, level).map(Arc::new);
        cache.push(Compressed {
            window_bits,
            level,
            frame: frame.clone(),
        });
        frame
    }
}

/// How many compressed bytes one step of the compressor writes.
#[cfg(feature = "deflate")]
const COMPRESS_CHUNK: usize = 16 << 10;

/// `data` compressed as one message from an empty window, without the
/// sync flush's tail (RFC 7692 §7.2.1), in a frame with RSV1 (§6.1).
#[cfg(feature = "deflate")]
fn compress_alone(kind: DataKind, data: &[u8], window_bits: u8, level: Level) -> Option<Frame> {
    let deflater = Deflater::with_window_bits(window_bits, level).ok()?;
    let mut deflater = MessageDeflater::new(deflater, true);
    let mut payload = Vec::new();
    let mut chunk = vec![0u8; COMPRESS_CHUNK];
    let mut input = data;
    loop {
        let step = deflater.compress(input, true, &mut chunk).ok()?;
        payload.extend_from_slice(chunk.get(..step.produced)?);
        input = input.get(step.consumed..)?;
        if step.done {
            return Some(Frame::new(kind, true, &payload));
        }
        // Every step uses input or hands out output, so the loop ends; a
        // step that did neither would never.
        if step.consumed == 0 && step.produced == 0 {
            return None;
        }
    }
}

impl TryFrom<Message> for PreparedMessage {
    type Error = Error;

    /// A text or binary message; control frames are refused
    /// ([`Error::InvalidInput`]): they are each connection's own.
    fn try_from(message: Message) -> Result<Self> {
        match message {
            Message::Text(text) => Ok(Self::text(&text)),
            Message::Binary(data) => Ok(Self::binary(&data)),
            _ => Err(Error::InvalidInput(
                "only text and binary messages can be prepared",
            )),
        }
    }
}

impl core::fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("kind", &self.kind())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking::sending::{WriteHalf, WriteLink};
    use crate::blocking::stream::TimedWrite;
    use crate::blocking::Config;
    use crate::protocol::{Connection, Limits};
    use std::io::{self, IoSlice};
    use std::net::Shutdown;
    use std::time::Duration;

    /// A stream that takes every write whole and remembers where the bytes
    /// of each part came from.
    struct Wire {
        bytes: Vec<u8>,
        writes: usize,
        parts: Vec<(usize, usize)>,
        shared: Shared,
    }

    impl TimedWrite for Wire {
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.writes += 1;
            let mut n = 0;
            for buf in bufs.iter().filter(|b| !b.is_empty()) {
                self.parts.push((buf.as_ptr() as usize, buf.len()));
                self.bytes.extend_from_slice(buf);
                n += buf.len();
            }
            Ok(n)
        }
        fn set_write_timeout(&mut self, _: Option<Duration>) -> Option<io::Result<()>> {
            None
        }
    }

    impl WriteLink for Wire {
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn shutdown(&mut self, _: Shutdown) {}
        fn shared<R>(&mut self, f: impl FnOnce(&mut Shared) -> R) -> R {
            f(&mut self.shared)
        }
    }

    /// A server's sending half and its wire, after the peer's ping `body`
    /// was received, so that its pong is owed.
    fn pinged_server(body: &[u8]) -> (WriteHalf, Wire) {
        let (mut receiver, sender, mut shared) =
            Connection::new(Role::Server, Limits::default()).into_parts();
        let key = [9, 8, 7, 6];
        let mut ping = vec![0x89, 0x80 | body.len() as u8];
        ping.extend_from_slice(&key);
        let at = ping.len();
        ping.extend_from_slice(body);
        crate::frame::apply_mask(&mut ping[at..], key, 0);
        let received = receiver.receive(&mut shared, &mut ping).unwrap();
        assert_eq!(received.consumed, 2 + 4 + body.len());
        assert!(shared.has_pending(), "a pong is owed");
        let half = WriteHalf::new(sender, &Config::default());
        let wire = Wire {
            bytes: Vec::new(),
            writes: 0,
            parts: Vec::new(),
            shared,
        };
        (half, wire)
    }

    #[test]
    fn the_owed_pong_and_the_prepared_frame_leave_in_one_write_without_a_copy() {
        let (mut half, mut wire) = pinged_server(b"hi");
        let prepared = PreparedMessage::text("a message for everybody");
        half.send_prepared(&mut wire, &prepared).unwrap();
        assert_eq!(wire.writes, 1, "one write");
        let mut expected = vec![0x8A, 2, b'h', b'i'];
        expected.extend_from_slice(prepared.frame());
        assert_eq!(wire.bytes, expected, "the pong, then the message");
        // The frame was written from where the message keeps it.
        let frame = prepared.frame();
        assert!(wire.parts.contains(&(frame.as_ptr() as usize, frame.len())));
        assert!(!wire.shared.has_pending());
    }

    #[cfg(feature = "deflate")]
    #[test]
    fn without_context_takeover_the_shared_compressed_frame_is_written_as_it_is() {
        use crate::permessage_deflate::negotiation::Direction;
        let (mut half, mut wire) = pinged_server(b"");
        half.sender.enable_compression();
        let ours = Direction {
            window_bits: 11,
            no_context_takeover: true,
        };
        let settings = crate::blocking::Compression::default().threshold(0);
        half.deflating = Some(crate::blocking::compression::Deflating::new(
            ours, &settings,
        ));
        let prepared = PreparedMessage::binary(&[b'z'; 5000]);
        half.send_prepared(&mut wire, &prepared).unwrap();
        half.send_prepared(&mut wire, &prepared).unwrap();
        assert_eq!(prepared.compressed_encodings(), 1);
        let frame = prepared.compressed(11, Level::new(6)).unwrap();
        assert_eq!(frame.bytes()[0], 0xC2, "FIN, RSV1, binary");
        let mut expected = vec![0x8A, 0];
        expected.extend_from_slice(frame.bytes());
        expected.extend_from_slice(frame.bytes());
        assert_eq!(wire.bytes, expected);
        let at = (frame.bytes().as_ptr() as usize, frame.bytes().len());
        assert_eq!(wire.parts.iter().filter(|&&p| p == at).count(), 2);
    }
}
