//! Where the randomness comes from (RFC 6455 §4.1, §5.3).
//!
//! A client needs unpredictable bytes twice:
//!
//! * 16 for each handshake's `Sec-WebSocket-Key` (§4.1, item 7: "a randomly
//!   selected 16-byte value", "selected randomly for each connection"), so
//!   that an answer recorded for an earlier handshake never matches a new
//!   one (see [why a GUID](crate::handshake::accept#why-version-13-and-why-a-guid));
//! * 4 for the masking key of every frame it sends (§5.3: "a fresh masking
//!   key", which "MUST be derived from a strong source of entropy").
//!
//! The masking keys matter most. Why they must be unpredictable, not just
//! different from frame to frame, is the proxy attack told in
//! [Why clients mask, and why servers must not](crate::frame#why-clients-mask-and-why-servers-must-not-53-103):
//! a script that could guess the next key could mask its bytes with it in
//! advance, and the client's masking would put them on the wire in clear.
//!
//! The core has no operating system to ask, so the caller supplies a
//! [`RandomSource`]: the std layer reads the OS's generator, a board its
//! hardware RNG. A server never masks, so its sends never call it.

/// A source of unpredictable bytes.
pub trait RandomSource {
    /// Fills `dest` with random bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]);
}

impl<R: RandomSource + ?Sized> RandomSource for &mut R {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        (**self).fill_bytes(dest)
    }
}
