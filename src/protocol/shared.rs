//! What the two halves of a connection share: where the closing handshake
//! stands, the control frames the receiver owes the peer, and when TCP may
//! end (RFC 6455 §5.5.1, §5.5.2, §7.1.1–§7.1.7).
//!
//! A [`Receiver`](super::Receiver) and a [`Sender`](super::Sender) work
//! independently: one thread may block reading while another blocks
//! writing. They meet only here, in a few bytes of plain state:
//!
//! * **owed frames**: a ping must be answered by a pong (§5.5.2), a Close by
//!   a Close (§5.5.1), and a violation by the Close that names it (§7.1.7).
//!   The receiver notices all three; only the sender can send them. So the
//!   receiver writes them down here and the sender takes them
//!   ([`Sender::take_pending`](super::Sender::take_pending)) before its next
//!   frame;
//! * **the closing handshake**: whether our Close went out and whether the
//!   peer's came in. [`State`] is read off those two facts;
//! * **the end of TCP** ([`Shared::end_of_tcp`]): the closing handshake ends
//!   the WebSocket, and then the TCP connection must end too, in the right
//!   order.
//!
//! ## The end of TCP, as [`Shared::end_of_tcp`] decides it
//!
//! The order is the one step 4 of the [crate's
//! tour](crate#step-4-closing-rfc-6455-7) gives, with its reasons; here it is
//! read off the state, once nothing is owed any more:
//!
//! | state | server | client |
//! |---|---|---|
//! | handshake not over, or a frame still owed | `NotYet` | `NotYet` |
//! | both Close frames crossed | `Now` | `AfterPeer` |
//! | failed (§7.1.7), its Close taken | `Now` | `Now` |

use super::{ControlPayload, Role, State};
use crate::close::CloseCode;

/// What the halves share (see the [module documentation](self)).
#[derive(Clone, Copy, Debug)]
pub struct Shared {
    /// Our Close frame has been encoded, to be sent.
    pub(super) close_sent: bool,
    /// The peer's Close frame has arrived.
    pub(super) close_received: bool,
    /// The connection was failed (§7.1.7): a rule was broken.
    pub(super) failed: bool,
    /// The payload of the pong that answers the latest ping (§5.5.3: the
    /// latest is enough), if not sent yet.
    pub(super) pong: Option<ControlPayload>,
    /// A Close frame owed to the peer, by its code (`None`: a Close without a
    /// code). Only the code is kept: the Close frames the connection owes on
    /// its own (an echo, §5.5.1, or a failure, §7.1.7) carry no reason.
    pub(super) close: Option<Option<CloseCode>>,
}

/// What to do with the TCP connection (RFC 6455 §7.1.1); see
/// [`Shared::end_of_tcp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndOfTcp {
    /// Keep it open: the closing handshake is not over, or a frame is still
    /// owed to the peer.
    NotYet,
    /// End it now: half-close (the peer reads our last frame, then the end of
    /// the stream), then close. After a failure, first read and drop what
    /// the peer still sends, a bounded time, so that it reads our Close
    /// rather than a reset. The server's duty after the closing handshake,
    /// and either side's after failing the connection.
    Now,
    /// Wait, a bounded time, for the server to end TCP first, then close. A
    /// client's part after the closing handshake.
    AfterPeer,
}

impl Shared {
    /// The state of a connection just after the opening handshake.
    pub const fn new() -> Self {
        Shared {
            close_sent: false,
            close_received: false,
            failed: false,
            pong: None,
            close: None,
        }
    }

    /// Where the closing handshake stands, from what each half did.
    pub const fn state(&self) -> State {
        match (self.failed, self.close_sent, self.close_received) {
            (true, _, _) | (false, true, true) => State::Closed,
            (false, true, false) => State::CloseSent,
            (false, false, true) => State::CloseReceived,
            (false, false, false) => State::Open,
        }
    }

    /// Whether a control frame (a pong, or a Close) is owed to the peer.
    pub const fn has_pending(&self) -> bool {
        self.close.is_some() || self.pong.is_some()
    }

    /// Whether the connection is over and nothing is left to send.
    pub const fn is_closed(&self) -> bool {
        matches!(self.state(), State::Closed) && !self.has_pending()
    }

    /// Whether the connection was failed after a violation (§7.1.7), as
    /// opposed to closed by the handshake.
    pub const fn is_failed(&self) -> bool {
        self.failed
    }

    /// What `role` does with the TCP connection now (§7.1.1, §7.1.7).
    pub const fn end_of_tcp(&self, role: Role) -> EndOfTcp {
        if !self.is_closed() {
            return EndOfTcp::NotYet;
        }
        match (self.failed, role) {
            (true, _) | (false, Role::Server) => EndOfTcp::Now,
            (false, Role::Client) => EndOfTcp::AfterPeer,
        }
    }

    /// Fails the connection for a reason outside the protocol, such as a
    /// write that failed or timed out half-way through a frame: nothing is
    /// owed any more, and nothing more can be sent.
    pub fn abort(&mut self) {
        self.failed = true;
        self.close = None;
        self.pong = None;
    }

    /// Records a ping to answer (§5.5.2). Every ping the receiver reports
    /// is owed one: it reads no frame after the peer's Close (which needs
    /// no answer, the peer reads nothing more) or after a failure.
    pub(super) fn owe_pong(&mut self, payload: ControlPayload) {
        self.pong = Some(payload);
    }

    /// Records the peer's Close (§5.5.1): answered with its code, unless our
    /// own Close went out first, in which case the handshake is complete.
    pub(super) fn peer_closed(&mut self, code: Option<CloseCode>) {
        self.close_received = true;
        self.pong = None;
        if !self.close_sent {
            self.close = Some(code);
        }
    }

    /// Fails the connection (§7.1.7): owes a Close with `code` unless ours
    /// already went out, and nothing else.
    pub(super) fn fail(&mut self, code: CloseCode) {
        if !self.close_sent && !self.failed {
            self.close = Some(Some(code));
        }
        self.pong = None;
        self.failed = true;
    }
}

impl Default for Shared {
    fn default() -> Self {
        Shared::new()
    }
}
