//! # wslite — WebSocket (RFC 6455), blocking, with no dependencies
//!
//! The protocol lives once, in a `no_std`, allocation-free, sans-I/O core:
//! bytes in, events out; events in, bytes out.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod base64;
pub mod close;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod protocol;
pub mod random;
pub mod sha1;
pub mod utf8;

pub use close::{CloseCode, CloseFrame};
pub use error::{Error, Result};
pub use random::RandomSource;
