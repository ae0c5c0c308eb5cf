//! DEFLATE both ways, as permessage-deflate uses it (RFC 7692 §7.2):
//! arbitrary messages compressed by `MessageDeflater` (tail removed) with
//! input and output cut into pieces, then inflated by `MessageInflater`
//! (tail restored) in other pieces, must come back unchanged, at every
//! level and window size, with and without context takeover. Each
//! message's DEFLATE data (tail restored) is also decoded by miniz_oxide,
//! an independent inflater, which must agree.
//!
//! Input: `[settings, split seed, data...]`; `data` is cut into up to four
//! messages at bytes equal to 0xFF.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::Chunks;
use libfuzzer_sys::fuzz_target;
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZFlush};
use wslite::deflate::deflate::{Deflater, Level, SliceStorage, Sizes};
use wslite::permessage_deflate::message::{MessageDeflater, MessageInflater, TAIL};
use wslite::protocol::{DataKind, Limits};

fuzz_target!(|input: &[u8]| {
    let [settings, seed, data @ ..] = input else {
        return;
    };
    let bits = 8 + (settings & 7);
    let level = Level::new((settings >> 3) % 10);
    let no_takeover = settings & 0x80 != 0;
    let mut chunks = Chunks::new(&[*seed], 300);

    let sizes = Sizes::for_window_bits(bits);
    let (mut window, mut head, mut prev, mut symbols) = (
        vec![0u8; sizes.window_bytes()],
        vec![0u16; sizes.head_entries()],
        vec![0u16; sizes.chain_entries()],
        vec![0u8; sizes.symbol_bytes()],
    );
    let storage = SliceStorage {
        window: &mut window,
        head: &mut head,
        prev: &mut prev,
        symbols: &mut symbols,
    };
    let deflater = Deflater::new(storage, bits, level).expect("sizes for_window_bits are valid");
    let mut deflater = MessageDeflater::new(deflater, no_takeover);
    let limits = Limits::default();
    let mut inflater = MessageInflater::new(vec![0u8; 1 << bits], no_takeover, limits);
    // miniz_oxide keeps its own 32 KiB window across messages, as a peer
    // with context takeover does.
    let mut oracle = InflateState::new_boxed(DataFormat::Raw);

    for message in data.split(|&b| b == 0xFF).take(4) {
        // Compress in pieces: input cut by the seed, output buffers of
        // 5 bytes and up.
        let mut wire = Vec::new();
        let mut rest = message;
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < 1_000_000, "the deflater does not finish");
            let take = chunks.next_size().min(rest.len());
            let fin = take == rest.len();
            let mut out = vec![0u8; 4 + chunks.next_size()];
            let c = deflater.compress(&rest[..take], fin, &mut out).expect("room");
            assert!(c.produced <= out.len() && c.consumed <= take);
            wire.extend_from_slice(&out[..c.produced]);
            rest = &rest[c.consumed..];
            if fin && c.done {
                break;
            }
        }

        // Inflate in other pieces, with small output buffers.
        let mut back = Vec::new();
        let mut input = &wire[..];
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < 10_000_000, "the inflater does not finish");
            let take = chunks.next_size().min(input.len());
            let fin = take == input.len();
            let mut out = vec![0u8; chunks.next_size()];
            let r = inflater
                .inflate(DataKind::Binary, &input[..take], fin, &mut out)
                .expect("our own output inflates");
            assert!(r.produced <= out.len());
            back.extend_from_slice(&out[..r.produced]);
            input = &input[r.consumed..];
            if r.done {
                break;
            }
        }
        assert_eq!(back, message, "the round trip changed the message");

        // The independent inflater reads the same bytes.
        if !no_takeover {
            let mut stream = wire.clone();
            stream.extend_from_slice(&TAIL);
            let mut out = vec![0u8; message.len() + 64];
            let result = inflate(&mut oracle, &stream, &mut out, MZFlush::Sync);
            assert!(result.status.is_ok(), "miniz_oxide: {:?}", result.status);
            assert_eq!(&out[..result.bytes_written], message, "miniz_oxide disagrees");
        }
    }
});
