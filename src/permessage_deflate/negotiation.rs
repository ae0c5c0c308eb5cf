//! Negotiating permessage-deflate in the opening handshake: RFC 7692 §5
//! (offers and answers), §7 (the rules for this extension) and §7.1 (its
//! four parameters), over the `Sec-WebSocket-Extensions` grammar of
//! RFC 6455 §9.1.
//!
//! What a reader learns here:
//!
//! * **An offer is a request plus hints** (§5). `server_max_window_bits=10`
//!   and `server_no_context_takeover` in an offer are *requests*: a server
//!   that accepts the offer must honour them and say so in its answer.
//!   `client_max_window_bits` and `client_no_context_takeover` are *hints*
//!   about the client's own compressor, and `client_max_window_bits` without
//!   a value says "you may limit my window". The server answers with the
//!   *agreed parameters*, which both ends then obey.
//! * **Who may say what.** A server may tighten anything in its answer
//!   (smaller windows, no context takeover) except that it may not name
//!   `client_max_window_bits` unless the client offered it (§7.1.2.2): a
//!   client that did not offer it may not understand it.
//! * **Declining and failing** (§7). A server that finds anything wrong with
//!   an offer (an unknown or repeated parameter, a bad value) *declines that
//!   offer* and looks at the next one; declining all of them just means no
//!   compression. A client that finds anything wrong with the answer *fails
//!   the connection*: the answer is what both ends would run with, so there
//!   is nothing to fall back to.
//!
//! The steps, in the order a connection goes through them: the client
//! writes its offer ([`write_offer`]); the server picks one
//! ([`negotiate`]) and writes its answer ([`write_response`]); the client
//! checks the answer against its offer ([`check_response`]). Both ends get
//! the same [`Agreed`] parameters, and read from them how they compress
//! ([`Agreed::sending`]) and how they inflate ([`Agreed::receiving`]).
//!
//! # The grammar, exactly
//!
//! An element of the header is `extension-token *( ";" extension-param )`
//! with `extension-param = token [ "=" (token | quoted-string) ]`
//! (RFC 6455 §9.1). That grammar uses RFC 2616's "implied *LWS" rule, so
//! whitespace may stand around `;` and around `=` (both are separators,
//! RFC 2616 §2.2), but not inside a token: `server_max_window_bits = 10` is
//! valid, `server_max_ window_bits` is not. A quoted value counts for what
//! it holds after unescaping (RFC 6455 §9.1), so `"10"` and `"1\0"` both
//! mean 10 (RFC 7692 §5.2 shows `x="10"`).
//!
//! The window sizes are `1*DIGIT`, "a decimal integer value without leading
//! zeroes between 8 to 15, inclusive" (§7.1.2.1, §7.1.2.2): `08`, `7`, `16`
//! and `+9` are invalid. `server_max_window_bits` always has a value;
//! `client_max_window_bits` may have none in an offer, but has one in an
//! answer; the two `no_context_takeover` parameters never have one
//! (§7.1.1.1, §7.1.1.2), so `server_no_context_takeover=1` is invalid.
//!
//! **Case.** Neither RFC 6455 nor RFC 7692 says whether parameter names are
//! case-sensitive. The rule for HTTP parameters of this shape is that names
//! are case-insensitive (RFC 9110 §5.6.6), and this crate already compares
//! extension names case-insensitively (RFC 6455 §4.1 item 5, as
//! [`Response::verify`](crate::handshake::Response::verify) does). So
//! `Server_No_Context_Takeover` is read as `server_no_context_takeover`;
//! what this module writes is always lower case.
//!
//! **Malformed elements.** RFC 6455 §9.1 says a recipient of a value that
//! does not match the grammar MUST fail the connection. A server here
//! declines the malformed permessage-deflate offer instead, which RFC 7692 §7
//! asks for the neighbouring faults (bad values, unknown parameters) and
//! which is always safe: the connection goes on without compression.
//! Elements naming other extensions are not looked at.

use crate::error::Error;
use crate::handshake::head;
use crate::handshake::request::Out;
use crate::protocol::Role;

/// The extension's registered name (RFC 7692 §9.1).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The smallest window size the parameters can name: 2^8 = 256 bytes
/// (§7.1.2).
pub const MIN_WINDOW_BITS: u8 = 8;

/// The largest window size, and the one in force when no parameter limits
/// it: 2^15 = 32 KiB (§7.1.2.1, §7.1.2.2; RFC 1951 §3.2.5 allows no more).
pub const MAX_WINDOW_BITS: u8 = 15;

// The parameter names of §7.1, as they are written.
const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// `"; "`, a parameter name, and for window sizes `"=15"`.
const fn param_len(name: &str, value: bool) -> usize {
    2 + name.len() + if value { 3 } else { 0 }
}

/// The longest element [`write_offer`] or [`write_response`] writes: the
/// name and all four parameters with two-digit values (128 bytes).
const MAX_ELEMENT_LEN: usize = EXTENSION_NAME.len()
    + param_len(SERVER_NO_CONTEXT_TAKEOVER, false)
    + param_len(CLIENT_NO_CONTEXT_TAKEOVER, false)
    + param_len(SERVER_MAX_WINDOW_BITS, true)
    + param_len(CLIENT_MAX_WINDOW_BITS, true);

/// A buffer of this many bytes holds any offer [`write_offer`] writes.
pub const MAX_OFFER_LEN: usize = MAX_ELEMENT_LEN;

/// A buffer of this many bytes holds any answer [`write_response`] writes.
pub const MAX_RESPONSE_LEN: usize = MAX_ELEMENT_LEN;

// ======================================================================
// What each side wants, and what they agreed on
// ======================================================================

/// One side's configuration of the extension, used by both roles: what a
/// client offers, and what a server accepts.
///
/// Window sizes are base-2 logarithms of the LZ77 window in bytes, 8 to 15
/// (256 bytes to 32 KiB). [`write_offer`] refuses other values;
/// [`negotiate`] and [`check_response`] read them as the nearest valid one.
/// 8 is valid (RFC 7692 §7.1.2) and this crate's DEFLATE handles it, but
/// peers built on zlib do not: zlib quietly compresses with a 9-bit window
/// when asked for 8, and some (python-websockets) refuse 8 outright, so 9
/// is the smallest size that works with everyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateOptions {
    /// Largest LZ77 window the *server* compresses with, 8..=15 (RFC 7692
    /// §7.1.2.1). A client below 15 asks for it; a server never uses more.
    pub server_max_window_bits: u8,
    /// Largest window the *client* compresses with, 8..=15 (§7.1.2.2). A
    /// client never uses more; a server below 15 limits clients to it when
    /// they let it (they offer `client_max_window_bits`).
    pub client_max_window_bits: u8,
    /// The server resets its window after each message (§7.1.1.1): a client
    /// asks for it, a server does it always.
    pub server_no_context_takeover: bool,
    /// The client resets its window after each message (§7.1.1.2): a client
    /// does it always (and says so), a server requires it.
    pub client_no_context_takeover: bool,
}

impl DeflateOptions {
    /// The defaults: 32 KiB windows both ways, context takeover allowed.
    /// As an offer that is `permessage-deflate; client_max_window_bits`,
    /// what browsers send.
    pub const DEFAULT: DeflateOptions = DeflateOptions {
        server_max_window_bits: MAX_WINDOW_BITS,
        client_max_window_bits: MAX_WINDOW_BITS,
        server_no_context_takeover: false,
        client_no_context_takeover: false,
    };

    /// The defaults (the same as [`DeflateOptions::DEFAULT`]).
    pub const fn new() -> Self {
        Self::DEFAULT
    }

    /// These options with [`server_max_window_bits`](Self::server_max_window_bits) set.
    pub const fn with_server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits;
        self
    }

    /// These options with [`client_max_window_bits`](Self::client_max_window_bits) set.
    pub const fn with_client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits;
        self
    }

    /// These options with [`server_no_context_takeover`](Self::server_no_context_takeover) set.
    pub const fn with_server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// These options with [`client_no_context_takeover`](Self::client_no_context_takeover) set.
    pub const fn with_client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Refuses window sizes outside 8..=15.
    fn validate(&self) -> Result<(), Error> {
        let valid = MIN_WINDOW_BITS..=MAX_WINDOW_BITS;
        if valid.contains(&self.server_max_window_bits)
            && valid.contains(&self.client_max_window_bits)
        {
            Ok(())
        } else {
            Err(Error::InvalidInput(
                "permessage-deflate window sizes are 8 to 15 bits (RFC 7692 §7.1.2)",
            ))
        }
    }

    /// Server and client window sizes, each moved into 8..=15.
    fn windows(&self) -> (u8, u8) {
        (
            clamp_window(self.server_max_window_bits),
            clamp_window(self.client_max_window_bits),
        )
    }
}

impl Default for DeflateOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

fn clamp_window(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// What both ends agreed on: the parameters of the server's answer
/// (RFC 7692 §5 calls them the "agreed parameters"), with a window size
/// the answer leaves out read as 15.
///
/// On the client, the promises of its own offer are folded in: a client
/// that offered `client_no_context_takeover` or a `client_max_window_bits`
/// value keeps to them even when the answer allows more (§7.2.1 lets it
/// choose, and it chose when it made the offer). So an `Agreed` says what
/// each end *does*, and [`sending`](Agreed::sending) and
/// [`receiving`](Agreed::receiving) read it for either role.
///
/// Two values are equal when they agree on the same parameters *and* would
/// be written as the same answer (an answer may name a window size of 15,
/// and must when the client asked for one, §7.1.2.1).
#[derive(Clone, Copy, Debug)]
pub struct Agreed {
    /// Largest window the server compresses with, and so the window the
    /// client inflates with (§7.1.2.1, §7.2.2).
    pub server_max_window_bits: u8,
    /// Largest window the client compresses with, and so the window the
    /// server inflates with (§7.1.2.2, §7.2.2).
    pub client_max_window_bits: u8,
    /// The server resets its window after each message; the client may
    /// reset its inflater too (§7.1.1.1).
    pub server_no_context_takeover: bool,
    /// The client resets its window after each message; the server may
    /// reset its inflater too (§7.1.1.2).
    pub client_no_context_takeover: bool,
    /// The answer names `server_max_window_bits` even when it is 15.
    names_server_window: bool,
    /// The answer names `client_max_window_bits` even when it is 15.
    names_client_window: bool,
}

impl Agreed {
    /// The plainest agreement, the answer `permessage-deflate`: 32 KiB
    /// windows both ways, context takeover allowed.
    pub const DEFAULT: Agreed = Agreed {
        server_max_window_bits: MAX_WINDOW_BITS,
        client_max_window_bits: MAX_WINDOW_BITS,
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        names_server_window: false,
        names_client_window: false,
    };

    /// This agreement with [`server_max_window_bits`](Self::server_max_window_bits) set.
    pub const fn with_server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits;
        self
    }

    /// This agreement with [`client_max_window_bits`](Self::client_max_window_bits) set.
    pub const fn with_client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits;
        self
    }

    /// This agreement with [`server_no_context_takeover`](Self::server_no_context_takeover) set.
    pub const fn with_server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// This agreement with [`client_no_context_takeover`](Self::client_no_context_takeover) set.
    pub const fn with_client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// How *we* compress, in `role`: the largest window we may use and
    /// whether we must start each message with an empty one (§7.2.1).
    pub fn sending(&self, role: Role) -> Direction {
        match role {
            Role::Client => self.client_to_server(),
            Role::Server => self.server_to_client(),
        }
    }

    /// How the *peer* compresses, in `role`: the window our inflater needs,
    /// and whether we may empty it after each message (§7.2.2).
    pub fn receiving(&self, role: Role) -> Direction {
        match role {
            Role::Client => self.server_to_client(),
            Role::Server => self.client_to_server(),
        }
    }

    fn client_to_server(&self) -> Direction {
        Direction {
            window_bits: self.client_max_window_bits,
            no_context_takeover: self.client_no_context_takeover,
        }
    }

    fn server_to_client(&self) -> Direction {
        Direction {
            window_bits: self.server_max_window_bits,
            no_context_takeover: self.server_no_context_takeover,
        }
    }

    /// Whether the answer carries `server_max_window_bits`.
    fn names_server_window(&self) -> bool {
        self.names_server_window || self.server_max_window_bits < MAX_WINDOW_BITS
    }

    /// Whether the answer carries `client_max_window_bits`.
    fn names_client_window(&self) -> bool {
        self.names_client_window || self.client_max_window_bits < MAX_WINDOW_BITS
    }
}

impl Default for Agreed {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl PartialEq for Agreed {
    fn eq(&self, other: &Self) -> bool {
        self.server_max_window_bits == other.server_max_window_bits
            && self.client_max_window_bits == other.client_max_window_bits
            && self.server_no_context_takeover == other.server_no_context_takeover
            && self.client_no_context_takeover == other.client_no_context_takeover
            && self.names_server_window() == other.names_server_window()
            && self.names_client_window() == other.names_client_window()
    }
}

impl Eq for Agreed {}

/// One direction of the connection: how its sender compresses, and so what
/// its receiver must be ready for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Direction {
    /// The largest LZ77 window the sender uses, 8..=15 bits: the sender's
    /// limit and the receiver's window size.
    pub window_bits: u8,
    /// The sender starts every message with an empty window, so the
    /// receiver need not keep its window between messages.
    pub no_context_takeover: bool,
}

// ======================================================================
// Client role
// ======================================================================

/// Writes the client's offer for `options` into `out` and returns its
/// length, e.g. `permessage-deflate; client_max_window_bits` for the
/// defaults. [`MAX_OFFER_LEN`] bytes are always enough.
///
/// The offer always carries `client_max_window_bits`, so that a server may
/// limit our window (§7.1.2.2): with our size as a hint when it is below
/// 15, bare when it is 15. It asks for `server_max_window_bits=N` when N is
/// below 15 (§7.1.2.1), and carries each `no_context_takeover` that is set:
/// the server's is a request, ours a hint (§7.1.1).
///
/// Window sizes outside 8..=15 are [`Error::InvalidInput`]; a short `out`
/// is [`Error::BufferTooSmall`].
pub fn write_offer(options: &DeflateOptions, out: &mut [u8]) -> Result<usize, Error> {
    options.validate()?;
    let params = Params {
        server_no_context_takeover: options.server_no_context_takeover,
        client_no_context_takeover: options.client_no_context_takeover,
        server_max_window_bits: (options.server_max_window_bits < MAX_WINDOW_BITS)
            .then_some(options.server_max_window_bits),
        client_max_window_bits: Some(
            (options.client_max_window_bits < MAX_WINDOW_BITS)
                .then_some(options.client_max_window_bits),
        ),
    };
    params.write(out)
}

/// [`write_offer`], giving the offer as text, as
/// [`ClientRequest::extensions`](crate::handshake::ClientRequest::extensions)
/// takes it.
pub fn write_offer_str<'o>(options: &DeflateOptions, out: &'o mut [u8]) -> Result<&'o str, Error> {
    let len = write_offer(options, out)?;
    written_str(out, len)
}

/// Checks the server's `Sec-WebSocket-Extensions` elements (as
/// [`Response::extensions`](crate::handshake::Response::extensions) gives
/// them) against the offer a client made with [`write_offer`] for
/// `offered`, and returns what was agreed.
///
/// `Ok(None)` when no element names permessage-deflate: the server
/// declined, and messages go uncompressed. Elements naming other
/// extensions are not looked at ([`Response::verify`] refuses extensions
/// that were not offered).
///
/// [`Error::InvalidDeflateResponse`], saying which rule broke, when the
/// answer is one RFC 7692 §7 tells a client to fail the connection for:
///
/// * a parameter that is unknown, repeated, malformed, or has a bad value:
///   a window size that is not 8..=15 without leading zeros, a window
///   parameter without a value (both have one in an answer), a value on a
///   `no_context_takeover` (§7.1.1, §7.1.2);
/// * more than one permessage-deflate element (the server accepts one
///   offer, §5);
/// * an answer that ignores a request: no `server_no_context_takeover` when
///   we asked for it (§7.1.1.1), no `server_max_window_bits` or a larger
///   one than we asked for (§7.1.2.1).
///
/// An answer with a `client_max_window_bits` above the hint we offered is
/// valid (§7.2.1 expects it): we keep to our own, smaller window. (Our offer
/// always carries `client_max_window_bits`, so the rule that an answer may
/// not name it unless offered, §7.1.2.2, never applies.)
///
/// [`Response::verify`]: crate::handshake::Response::verify
pub fn check_response<'a>(
    elements: impl IntoIterator<Item = &'a [u8]>,
    offered: &DeflateOptions,
) -> Result<Option<Agreed>, Error> {
    let mut ours = elements.into_iter().filter(|e| names_permessage_deflate(e));
    let Some(element) = ours.next() else {
        return Ok(None);
    };
    if ours.next().is_some() {
        return Err(Error::InvalidDeflateResponse(
            "it has more than one permessage-deflate element, but a server accepts one offer (RFC 7692 §5)",
        ));
    }
    let answer = Params::parse(element, Side::Response).map_err(Error::InvalidDeflateResponse)?;
    let (server_window, client_window) = offered.windows();

    // §7.1.1.1: a server accepts our request only by repeating it.
    if offered.server_no_context_takeover && !answer.server_no_context_takeover {
        return Err(Error::InvalidDeflateResponse(
            "it leaves out server_no_context_takeover, which the offer asked for (RFC 7692 §7.1.1.1)",
        ));
    }
    // §7.1.2.1: the same for the server's window, at the same size or less.
    // Without a request, the answer may still name any size.
    let server_max_window_bits = match answer.server_max_window_bits {
        None if server_window < MAX_WINDOW_BITS => return Err(Error::InvalidDeflateResponse(
            "it leaves out server_max_window_bits, which the offer asked for (RFC 7692 §7.1.2.1)",
        )),
        Some(bits) if bits > server_window => {
            return Err(Error::InvalidDeflateResponse(
                "its server_max_window_bits is larger than the offer asked for (RFC 7692 §7.1.2.1)",
            ))
        }
        bits => bits.unwrap_or(MAX_WINDOW_BITS),
    };
    // §7.1.2.2: the answer's limit on our window, if any; our own offer's
    // hint stands in any case (§7.2.1).
    let answered_client_window = answer.client_max_window_bits.flatten();
    let client_max_window_bits = answered_client_window
        .unwrap_or(MAX_WINDOW_BITS)
        .min(client_window);
    Ok(Some(Agreed {
        server_max_window_bits,
        client_max_window_bits,
        server_no_context_takeover: answer.server_no_context_takeover,
        // §7.1.1.2: a client MUST support it in an answer; our offer's hint
        // stands in any case.
        client_no_context_takeover: answer.client_no_context_takeover
            || offered.client_no_context_takeover,
        names_server_window: answer.server_max_window_bits.is_some(),
        names_client_window: answered_client_window.is_some(),
    }))
}

// ======================================================================
// Server role
// ======================================================================

/// Picks the first acceptable permessage-deflate offer among the client's
/// `Sec-WebSocket-Extensions` elements (as
/// [`Request::extensions`](crate::handshake::Request::extensions) gives
/// them), in the client's order of preference (§5), and returns what to
/// agree to given the server's `options`. `None` declines them all: answer
/// without naming permessage-deflate, and send messages uncompressed.
///
/// An offer with an unknown, repeated or malformed parameter or a bad value
/// is declined, as §7 requires, and the next one is looked at. Elements
/// naming other extensions are skipped. Every valid offer is acceptable:
/// this crate's DEFLATE supports every window size and both context modes.
///
/// What is agreed, parameter by parameter:
///
/// * `server_max_window_bits`: ours, or the client's request if smaller
///   (§7.1.2.1). It is named in the answer when below 15, and always when
///   the client asked for it.
/// * `client_max_window_bits`: if the client offered the parameter, ours,
///   or its hint if smaller; named in the answer when below 15 and
///   whenever the client gave a value. If the client did not offer it, we
///   cannot limit its window (§7.1.2.2) and must inflate with 32 KiB: 15.
/// * `server_no_context_takeover`: if the client asked for it or `options`
///   says so (§7.1.1.1).
/// * `client_no_context_takeover`: if `options` says so, or the client
///   hinted that it will anyway: repeating the hint lets our inflater drop
///   its window between messages (§7.1.1.2).
pub fn negotiate<'a>(
    offers: impl IntoIterator<Item = &'a [u8]>,
    options: &DeflateOptions,
) -> Option<Agreed> {
    let offer = offers
        .into_iter()
        .filter(|e| names_permessage_deflate(e))
        .find_map(|e| Params::parse(e, Side::Offer).ok())?;
    let (server_window, client_window) = options.windows();
    let client_max_window_bits = match offer.client_max_window_bits {
        None => MAX_WINDOW_BITS,
        Some(hint) => hint.map_or(client_window, |bits| bits.min(client_window)),
    };
    Some(Agreed {
        server_max_window_bits: offer
            .server_max_window_bits
            .map_or(server_window, |bits| bits.min(server_window)),
        client_max_window_bits,
        server_no_context_takeover: offer.server_no_context_takeover
            || options.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || options.client_no_context_takeover,
        names_server_window: offer.server_max_window_bits.is_some(),
        names_client_window: matches!(offer.client_max_window_bits, Some(Some(_))),
    })
}

/// Writes the server's answer for `agreed` into `out` and returns its
/// length, e.g. `permessage-deflate; server_max_window_bits=12;
/// client_max_window_bits=12`; it goes in the `Sec-WebSocket-Extensions`
/// field of the `101` ([`write_accept_response`]'s `extra_headers`).
/// [`MAX_RESPONSE_LEN`] bytes are always enough.
///
/// A window size is written when it is below 15, or when the accepted offer
/// named it (see [`negotiate`]); each `no_context_takeover` when set.
/// Window sizes outside 8..=15 are [`Error::InvalidInput`]; a short `out`
/// is [`Error::BufferTooSmall`].
///
/// [`write_accept_response`]: crate::handshake::write_accept_response
pub fn write_response(agreed: &Agreed, out: &mut [u8]) -> Result<usize, Error> {
    DeflateOptions {
        server_max_window_bits: agreed.server_max_window_bits,
        client_max_window_bits: agreed.client_max_window_bits,
        server_no_context_takeover: false,
        client_no_context_takeover: false,
    }
    .validate()?;
    let params = Params {
        server_no_context_takeover: agreed.server_no_context_takeover,
        client_no_context_takeover: agreed.client_no_context_takeover,
        server_max_window_bits: agreed
            .names_server_window()
            .then_some(agreed.server_max_window_bits),
        client_max_window_bits: agreed
            .names_client_window()
            .then_some(Some(agreed.client_max_window_bits)),
    };
    params.write(out)
}

/// [`write_response`], giving the answer as text, as
/// [`write_accept_response`](crate::handshake::write_accept_response)'s
/// `extra_headers` take it.
pub fn write_response_str<'o>(agreed: &Agreed, out: &'o mut [u8]) -> Result<&'o str, Error> {
    let len = write_response(agreed, out)?;
    written_str(out, len)
}

// ======================================================================
// The parameters of one element, read and written
// ======================================================================

/// Whether an element of `Sec-WebSocket-Extensions` names this extension.
/// Extension names compare case-insensitively, as in
/// [`Response::verify`](crate::handshake::Response::verify).
pub fn names_permessage_deflate(element: &[u8]) -> bool {
    head::extension_name(element).eq_ignore_ascii_case(EXTENSION_NAME.as_bytes())
}

/// Which message an element comes from: the rules for values differ
/// (§7.1.2.2: `client_max_window_bits` may be bare only in an offer).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Offer,
    Response,
}

/// The parameters of one permessage-deflate element, as written: each is
/// present or not, window sizes with their value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// `server_max_window_bits=N`.
    server_max_window_bits: Option<u8>,
    /// `client_max_window_bits` (`Some(None)`) or `client_max_window_bits=N`.
    client_max_window_bits: Option<Option<u8>>,
}

impl Params {
    /// Reads a permessage-deflate element. The error names the rule it
    /// breaks, for [`Error::InvalidDeflateResponse`].
    fn parse(element: &[u8], side: Side) -> Result<Params, &'static str> {
        let mut cursor = Cursor { rest: element };
        cursor.skip_ows();
        if !cursor
            .token()
            .eq_ignore_ascii_case(EXTENSION_NAME.as_bytes())
        {
            return Err("the element does not start with the name permessage-deflate");
        }
        let mut params = Params::default();
        let mut seen = Seen::default();
        loop {
            cursor.skip_ows();
            if cursor.rest.is_empty() {
                return Ok(params);
            }
            if !cursor.eat(b';') {
                return Err(
                    "the element has something other than `;` after a parameter (RFC 6455 §9.1)",
                );
            }
            cursor.skip_ows();
            let name = cursor.token();
            if name.is_empty() {
                return Err("a `;` is not followed by a parameter name (RFC 6455 §9.1)");
            }
            cursor.skip_ows();
            let value = if cursor.eat(b'=') {
                cursor.skip_ows();
                Some(cursor.value()?)
            } else {
                None
            };
            let param = Param::named(name)
                .ok_or("it has a parameter RFC 7692 §7.1 does not define for permessage-deflate")?;
            if seen.again(param) {
                return Err("a parameter appears twice (RFC 7692 §7)");
            }
            params.set(param, value, side)?;
        }
    }

    /// Stores one parameter and its value, checking the value (§7.1).
    fn set(
        &mut self,
        param: Param,
        value: Option<Value<'_>>,
        side: Side,
    ) -> Result<(), &'static str> {
        match (param, value) {
            (Param::ServerNoContextTakeover, None) => self.server_no_context_takeover = true,
            (Param::ClientNoContextTakeover, None) => self.client_no_context_takeover = true,
            (Param::ServerNoContextTakeover | Param::ClientNoContextTakeover, Some(_)) => {
                return Err("a no_context_takeover parameter has a value, but it takes none (RFC 7692 §7.1.1)")
            }
            (Param::ServerMaxWindowBits, Some(value)) => {
                self.server_max_window_bits = Some(value.window_bits()?);
            }
            (Param::ServerMaxWindowBits, None) => {
                return Err("server_max_window_bits has no value (RFC 7692 §7.1.2.1)")
            }
            (Param::ClientMaxWindowBits, Some(value)) => {
                self.client_max_window_bits = Some(Some(value.window_bits()?));
            }
            (Param::ClientMaxWindowBits, None) if side == Side::Offer => {
                self.client_max_window_bits = Some(None);
            }
            (Param::ClientMaxWindowBits, None) => {
                return Err("client_max_window_bits has no value, which it must have in an answer (RFC 7692 §7.1.2.2)")
            }
        }
        Ok(())
    }

    /// Writes the element: the name, then each parameter present, in the
    /// order of §7.
    fn write(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Out::new(out);
        w.put(EXTENSION_NAME.as_bytes());
        let mut param = |name: &str, value: Option<u8>| {
            w.put(b"; ");
            w.put(name.as_bytes());
            if let Some(bits) = value {
                w.put(b"=");
                if bits >= 10 {
                    w.put(b"1");
                }
                w.put(&[b'0' + bits % 10]);
            }
        };
        if self.server_no_context_takeover {
            param(SERVER_NO_CONTEXT_TAKEOVER, None);
        }
        if self.client_no_context_takeover {
            param(CLIENT_NO_CONTEXT_TAKEOVER, None);
        }
        if let Some(bits) = self.server_max_window_bits {
            param(SERVER_MAX_WINDOW_BITS, Some(bits));
        }
        if let Some(bits) = self.client_max_window_bits {
            param(CLIENT_MAX_WINDOW_BITS, bits);
        }
        w.finish()
    }
}

/// The four parameters of §7.1.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Param {
    ServerNoContextTakeover,
    ClientNoContextTakeover,
    ServerMaxWindowBits,
    ClientMaxWindowBits,
}

impl Param {
    /// The parameter a name means, compared case-insensitively (see the
    /// module documentation), or `None` for a name §7.1 does not define.
    fn named(name: &[u8]) -> Option<Param> {
        [
            (SERVER_NO_CONTEXT_TAKEOVER, Param::ServerNoContextTakeover),
            (CLIENT_NO_CONTEXT_TAKEOVER, Param::ClientNoContextTakeover),
            (SERVER_MAX_WINDOW_BITS, Param::ServerMaxWindowBits),
            (CLIENT_MAX_WINDOW_BITS, Param::ClientMaxWindowBits),
        ]
        .into_iter()
        .find(|(known, _)| name.eq_ignore_ascii_case(known.as_bytes()))
        .map(|(_, param)| param)
    }
}

/// Which parameters an element has named so far, to refuse repeats.
#[derive(Default)]
struct Seen([bool; 4]);

impl Seen {
    /// Notes `param`; `true` if it was seen before.
    fn again(&mut self, param: Param) -> bool {
        let slot = match param {
            Param::ServerNoContextTakeover => 0,
            Param::ClientNoContextTakeover => 1,
            Param::ServerMaxWindowBits => 2,
            Param::ClientMaxWindowBits => 3,
        };
        self.0
            .get_mut(slot)
            .is_some_and(|seen| core::mem::replace(seen, true))
    }
}

/// A parameter's value as written: a token, or the inside of a
/// quoted-string with its escapes still in.
#[derive(Clone, Copy)]
enum Value<'a> {
    Token(&'a [u8]),
    Quoted(&'a [u8]),
}

impl Value<'_> {
    /// The bytes the value stands for: a quoted-string without its quotes
    /// and with each `\x` read as `x` (RFC 6455 §9.1 judges the unescaped
    /// value; quoted-pair, RFC 2616 §2.2).
    fn unescaped(&self) -> impl Iterator<Item = u8> + '_ {
        let (bytes, quoted) = match *self {
            Value::Token(bytes) => (bytes, false),
            Value::Quoted(bytes) => (bytes, true),
        };
        let mut escaped = false;
        bytes.iter().filter_map(move |&b| {
            if quoted && !escaped && b == b'\\' {
                escaped = true;
                None
            } else {
                escaped = false;
                Some(b)
            }
        })
    }

    /// The value as a window size: `1*DIGIT`, "a decimal integer value
    /// without leading zeroes between 8 to 15, inclusive" (§7.1.2.1,
    /// §7.1.2.2). So exactly one of `8`, `9`, `10` … `15`.
    fn window_bits(&self) -> Result<u8, &'static str> {
        let mut digits = self.unescaped();
        match (digits.next(), digits.next(), digits.next()) {
            (Some(d @ b'8'..=b'9'), None, None) => Ok(d - b'0'),
            (Some(b'1'), Some(d @ b'0'..=b'5'), None) => Ok(10 + (d - b'0')),
            _ => Err("a window size is not one of 8 to 15, written without leading zeros (RFC 7692 §7.1.2)"),
        }
    }
}

/// Reads an element from the front, one piece of grammar at a time.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// Skips optional whitespace, which the grammar allows around `;` and
    /// `=` (RFC 6455 §9.1 with RFC 2616's implied *LWS).
    fn skip_ows(&mut self) {
        let start = self
            .rest
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(self.rest.len());
        self.rest = self.rest.get(start..).unwrap_or(b"");
    }

    /// Takes `b` if it comes next.
    fn eat(&mut self, b: u8) -> bool {
        match self.rest.split_first() {
            Some((&first, rest)) if first == b => {
                self.rest = rest;
                true
            }
            _ => false,
        }
    }

    /// Takes the longest run of token characters (RFC 9110 §5.6.2), which
    /// may be empty.
    fn token(&mut self) -> &'a [u8] {
        let end = self
            .rest
            .iter()
            .position(|&b| !head::is_tchar(b))
            .unwrap_or(self.rest.len());
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        token
    }

    /// Takes a parameter value: a non-empty token, or a quoted-string
    /// (`"` … `"`, where `\` escapes the next byte, RFC 2616 §2.2).
    fn value(&mut self) -> Result<Value<'a>, &'static str> {
        if !self.eat(b'"') {
            let token = self.token();
            return if token.is_empty() {
                Err("a parameter has `=` but no value (RFC 6455 §9.1)")
            } else {
                Ok(Value::Token(token))
            };
        }
        let mut escaped = false;
        for (i, &b) in self.rest.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                let (inside, rest) = self.rest.split_at(i);
                self.rest = rest.get(1..).unwrap_or(b"");
                return Ok(Value::Quoted(inside));
            }
        }
        Err("a quoted value has no closing quote (RFC 6455 §9.1)")
    }
}

/// The first `len` bytes of `out`, which this module just filled with
/// ASCII, as text.
fn written_str(out: &[u8], len: usize) -> Result<&str, Error> {
    out.get(..len)
        .and_then(|bytes| core::str::from_utf8(bytes).ok())
        .ok_or(Error::InvalidInput("the element is not text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(element: &str, side: Side) -> Result<Params, &'static str> {
        Params::parse(element.as_bytes(), side)
    }

    fn offer(options: DeflateOptions) -> String {
        let mut out = [0; MAX_OFFER_LEN];
        write_offer_str(&options, &mut out).unwrap().to_owned()
    }

    fn response(agreed: Agreed) -> String {
        let mut out = [0; MAX_RESPONSE_LEN];
        write_response_str(&agreed, &mut out).unwrap().to_owned()
    }

    #[test]
    fn window_sizes_are_8_to_15_without_leading_zeros() {
        // Every number below 1000, and each with leading zeros.
        for n in 0..1000u32 {
            for text in [format!("{n}"), format!("0{n}"), format!("00{n}")] {
                let got = Value::Token(text.as_bytes()).window_bits();
                let canonical = text == n.to_string();
                if canonical && (8..=15).contains(&n) {
                    assert_eq!(got, Ok(n as u8), "{text}");
                } else {
                    assert!(got.is_err(), "{text}");
                }
            }
        }
        for bad in [
            "", "+9", "-9", "9 ", " 9", "1a", "a", "٩", "9.0", "1_0", "0x9",
        ] {
            assert!(Value::Token(bad.as_bytes()).window_bits().is_err(), "{bad}");
            assert!(
                Value::Quoted(bad.as_bytes()).window_bits().is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_quoted_value_counts_for_what_it_holds_unescaped() {
        for (inside, bits) in [("10", Some(10)), (r"1\0", Some(10)), (r"\1\5", Some(15))] {
            assert_eq!(Value::Quoted(inside.as_bytes()).window_bits().ok(), bits);
        }
        for bad in [r"1\\", r"\\9", r#"9\""#, "9\t"] {
            assert!(
                Value::Quoted(bad.as_bytes()).window_bits().is_err(),
                "{bad}"
            );
        }
        // Outside quotes a backslash is no escape (and no token character).
        assert!(parse(
            r"permessage-deflate; server_max_window_bits=1\0",
            Side::Offer
        )
        .is_err());
        assert_eq!(
            parse(
                r#"permessage-deflate; server_max_window_bits="1\0""#,
                Side::Offer
            )
            .unwrap()
            .server_max_window_bits,
            Some(10)
        );
    }

    #[test]
    fn quoted_strings_end_at_the_first_unescaped_quote() {
        let mut cursor = Cursor {
            rest: br#""a\"b" ; x"#,
        };
        assert!(matches!(cursor.value(), Ok(Value::Quoted(v)) if v == br#"a\"b"#));
        assert_eq!(cursor.rest, b" ; x");
        for unterminated in [&br#""10"#[..], br#""10\""#, b"\""] {
            let mut cursor = Cursor { rest: unterminated };
            assert!(cursor.value().is_err(), "{unterminated:?}");
        }
    }

    #[test]
    fn reads_every_parameter_and_whitespace_around_separators() {
        let p = parse(
            "permessage-deflate ;server_no_context_takeover;\tclient_no_context_takeover ; \
             server_max_window_bits = 9 ;client_max_window_bits\t=\t\"12\"",
            Side::Response,
        )
        .unwrap();
        assert_eq!(
            p,
            Params {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: Some(9),
                client_max_window_bits: Some(Some(12)),
            }
        );
        assert_eq!(
            parse("permessage-deflate", Side::Offer).unwrap(),
            Params::default()
        );
        // A bare client_max_window_bits is an offer's, never an answer's.
        let bare = "permessage-deflate; client_max_window_bits";
        assert_eq!(
            parse(bare, Side::Offer).unwrap().client_max_window_bits,
            Some(None)
        );
        assert!(parse(bare, Side::Response).is_err());
    }

    #[test]
    fn names_are_case_insensitive() {
        let p = parse(
            "PerMessage-Deflate; SERVER_NO_CONTEXT_TAKEOVER; Client_Max_Window_Bits=10",
            Side::Response,
        )
        .unwrap();
        assert!(p.server_no_context_takeover);
        assert_eq!(p.client_max_window_bits, Some(Some(10)));
        assert!(names_permessage_deflate(b"PERMESSAGE-DEFLATE ; x"));
        assert!(!names_permessage_deflate(b"permessage-deflatex"));
        assert!(!names_permessage_deflate(b"x-permessage-deflate"));
    }

    #[test]
    fn refuses_what_the_grammar_or_section_7_1_forbids() {
        for bad in [
            "permessage-deflate;",
            "permessage-deflate; ",
            "permessage-deflate;;",
            "permessage-deflate; ;server_no_context_takeover",
            "permessage-deflate server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover client_no_context_takeover",
            "permessage-deflate; server_ no_context_takeover",
            "permessage-deflate; server_no_context_takeover=",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover=\"\"",
            "permessage-deflate; client_no_context_takeover=true",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=",
            "permessage-deflate; server_max_window_bits=\"\"",
            "permessage-deflate; server_max_window_bits=10 10",
            "permessage-deflate; server_max_window_bits=10\"",
            "permessage-deflate; server_max_window_bits=\"10\"x",
            "permessage-deflate; server_max_window_bits=\"10",
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; client_max_window_bits==10",
            "permessage-deflate; x",
            "permessage-deflate; x=1",
            "permessage-deflate; server_max_window_bit=10",
            "permessage-deflate; server_no_context_takeover; Server_No_Context_Takeover",
            "permessage-deflate; client_max_window_bits=10; client_max_window_bits",
            "permessage-deflate; =10",
            "permessage-deflate; \"x\"",
            "permessage-deflatex",
            "x; permessage-deflate",
        ] {
            assert!(parse(bad, Side::Offer).is_err(), "{bad}");
            assert!(parse(bad, Side::Response).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_element_written_reads_back_as_written() {
        let windows = || (8..=15).map(Some).chain([None]);
        let mut count = 0;
        for snct in [false, true] {
            for cnct in [false, true] {
                for smwb in windows() {
                    let client_windows = (8..=15).map(|bits| Some(Some(bits)));
                    for cmwb in client_windows.chain([Some(None), None]) {
                        let p = Params {
                            server_no_context_takeover: snct,
                            client_no_context_takeover: cnct,
                            server_max_window_bits: smwb,
                            client_max_window_bits: cmwb,
                        };
                        let mut out = [0; MAX_ELEMENT_LEN];
                        let len = p.write(&mut out).unwrap();
                        assert_eq!(parse_bytes(&out[..len], Side::Offer), Ok(p));
                        count += 1;
                    }
                }
            }
        }
        assert_eq!(count, 2 * 2 * 9 * 10);
    }

    fn parse_bytes(element: &[u8], side: Side) -> Result<Params, &'static str> {
        Params::parse(element, side)
    }

    #[test]
    fn offers_carry_what_the_options_say() {
        assert_eq!(
            offer(DeflateOptions::DEFAULT),
            "permessage-deflate; client_max_window_bits"
        );
        assert_eq!(
            offer(
                DeflateOptions::new()
                    .with_server_max_window_bits(10)
                    .with_client_max_window_bits(9)
            ),
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"
        );
        let longest = offer(
            DeflateOptions::new()
                .with_server_max_window_bits(12)
                .with_client_max_window_bits(14)
                .with_server_no_context_takeover(true)
                .with_client_no_context_takeover(true),
        );
        assert_eq!(
            longest,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12; client_max_window_bits=14"
        );
        assert_eq!(longest.len(), MAX_OFFER_LEN);
        assert_eq!(MAX_OFFER_LEN, 128);
    }

    #[test]
    fn writers_refuse_bad_sizes_and_short_buffers() {
        let mut out = [0; MAX_OFFER_LEN];
        for bits in [0, 7, 16, 255] {
            let options = DeflateOptions::new().with_client_max_window_bits(bits);
            assert!(matches!(
                write_offer(&options, &mut out),
                Err(Error::InvalidInput(_))
            ));
            let options = DeflateOptions::new().with_server_max_window_bits(bits);
            assert!(matches!(
                write_offer(&options, &mut out),
                Err(Error::InvalidInput(_))
            ));
            let agreed = Agreed::DEFAULT.with_server_max_window_bits(bits);
            assert!(matches!(
                write_response(&agreed, &mut out),
                Err(Error::InvalidInput(_))
            ));
        }
        // 42 bytes: "permessage-deflate; client_max_window_bits".
        let mut short = [0; 41];
        assert!(matches!(
            write_offer(&DeflateOptions::DEFAULT, &mut short),
            Err(Error::BufferTooSmall { needed: 42 })
        ));
        assert!(matches!(
            write_response(&Agreed::DEFAULT, &mut []),
            Err(Error::BufferTooSmall { needed: 18 })
        ));
    }

    #[test]
    fn answers_name_a_window_below_15_or_when_the_offer_named_it() {
        assert_eq!(response(Agreed::DEFAULT), "permessage-deflate");
        assert_eq!(
            response(
                Agreed::DEFAULT
                    .with_server_max_window_bits(12)
                    .with_client_max_window_bits(12)
            ),
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
        );
        let named = Agreed {
            names_server_window: true,
            names_client_window: true,
            ..Agreed::DEFAULT
        }
        .with_server_no_context_takeover(true)
        .with_client_no_context_takeover(true);
        let longest = response(named);
        assert_eq!(
            longest,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=15; client_max_window_bits=15"
        );
        assert_eq!(longest.len(), MAX_RESPONSE_LEN);
        // Equal means "the same parameters, written the same way".
        assert_ne!(named, named.with_server_no_context_takeover(false));
        let twelve = Agreed::DEFAULT.with_server_max_window_bits(12);
        let twelve_named = Agreed {
            names_server_window: true,
            ..twelve
        };
        assert_eq!(twelve, twelve_named);
        assert_ne!(
            Agreed::DEFAULT,
            Agreed {
                names_server_window: true,
                ..Agreed::DEFAULT
            }
        );
    }

    #[test]
    fn each_role_sends_with_its_own_parameters_and_receives_with_the_peers() {
        let agreed = Agreed::DEFAULT
            .with_server_max_window_bits(9)
            .with_client_max_window_bits(12)
            .with_client_no_context_takeover(true);
        let server_to_client = Direction {
            window_bits: 9,
            no_context_takeover: false,
        };
        let client_to_server = Direction {
            window_bits: 12,
            no_context_takeover: true,
        };
        assert_eq!(agreed.sending(Role::Server), server_to_client);
        assert_eq!(agreed.receiving(Role::Client), server_to_client);
        assert_eq!(agreed.sending(Role::Client), client_to_server);
        assert_eq!(agreed.receiving(Role::Server), client_to_server);
    }
}
