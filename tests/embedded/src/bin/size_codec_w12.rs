//! A minimal server endpoint with permessage-deflate and 12-bit windows
//! that inflates what it receives and compresses what it sends: the body is `src/size_pmd.rs`; `run.sh` measures it
//! over `size_server`.
#![no_std]
#![no_main]

const WINDOW_BITS: u8 = 12;
const DEFLATE: bool = true;

include!("../size_pmd.rs");
