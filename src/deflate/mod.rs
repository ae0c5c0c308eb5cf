//! DEFLATE (RFC 1951), both directions, in safe Rust with no allocation:
//! the compression that permessage-deflate (RFC 7692) puts on the wire.
//!
//! A DEFLATE stream is a sequence of *blocks* (§3.2.3). Each starts with
//! three bits: BFINAL (is this the last block?) and BTYPE (how it is coded):
//!
//! | BTYPE | block                 | where                       |
//! |-------|-----------------------|-----------------------------|
//! | `00`  | stored: raw bytes     | §3.2.4                      |
//! | `01`  | fixed Huffman codes   | §3.2.6                      |
//! | `10`  | dynamic Huffman codes | §3.2.7                      |
//! | `11`  | reserved: an error    | §3.2.3                      |
//!
//! Inside a compressed block, the data is a sequence of symbols: a
//! *literal* byte, or a *back-reference* "copy `length` bytes from
//! `distance` bytes back" (LZ77, §1 and §3.2.5), or the end of the block.
//! Literals and lengths share one alphabet (0–285), distances have another
//! (0–29); both are coded with Huffman codes, which a dynamic block
//! describes by their code lengths alone (§3.2.2, §3.2.7).
//!
//! Reading order:
//!
//! 1. [`tables`]: the constant tables of §3.2.5–§3.2.7 and the canonical
//!    Huffman code of §3.2.2, which both directions share;
//! 2. [`bit_reader`], [`huffman`] (decoding tables) and [`inflate`]:
//!    decoding, which must survive any input (every malformed stream is an
//!    error, never a panic or a loop);
//! 3. [`bit_writer`], [`lz77`] (finding matches), [`code_builder`] (code
//!    lengths from symbol counts, §3.2.7's run-length coding) and
//!    [`deflate`] (blocks, and the sync flush): encoding.
//!
//! The state lives in buffers the caller provides and sizes, so a
//! microcontroller can use a 512-byte window and a server a 32 KiB one.

pub mod bit_reader;
pub mod bit_writer;
pub mod code_builder;
// The encoder's module is named after what it makes, like its parent.
#[allow(clippy::module_inception)]
pub mod deflate;
pub mod huffman;
pub mod inflate;
pub mod lz77;
pub mod tables;
