//! A minimal server endpoint with permessage-deflate and 15-bit windows
//! that inflates what it receives and sends uncompressed: the body is `src/size_pmd.rs`; `run.sh` measures it
//! over `size_server`.
#![no_std]
#![no_main]

const WINDOW_BITS: u8 = 15;
const DEFLATE: bool = false;

include!("../size_pmd.rs");
