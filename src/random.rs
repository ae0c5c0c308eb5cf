//! Where the randomness comes from (RFC 6455 §10.3, §4.1).
//!
//! A client needs unpredictable bytes twice: 16 for each handshake's
//! `Sec-WebSocket-Key` (§4.1) and 4 for the masking key of every frame it
//! sends (§5.3). The masking keys matter most: §10.3 explains that masking
//! exists so that a hostile script cannot choose the bytes that appear on the
//! wire, and that only works if the script cannot predict the key.
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
