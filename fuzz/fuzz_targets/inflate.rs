//! The DEFLATE decoder (RFC 1951): arbitrary bytes inflated at once and in
//! pieces, and checked against a second inflater.
//!
//! Input: `[window selector, split seed, stream...]`. Checks: no panic and
//! no endless loop on any stream; no call writes more than its output
//! buffer, and every call keeps the contract (output not full → all input
//! consumed or the stream ended); the stream cut into pieces where the
//! seed says, with small output buffers, gives the bytes and the outcome
//! (end, need for input, or the same error) of one big call; and a stream
//! we decode to its end, miniz_oxide decodes to the same bytes.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wslite::deflate::inflate::{InflateError, Inflater, Progress, Status};

/// How a run over the whole stream ended.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    bytes: Vec<u8>,
    end: Result<Status, InflateError>,
    consumed: usize,
}

fn check_contract(progress: &Progress, input: usize, output: usize) {
    assert!(progress.produced <= output, "{progress:?} into {output} bytes");
    assert!(progress.consumed <= input, "{progress:?} from {input} bytes");
    if progress.produced < output {
        assert!(
            progress.consumed == input || progress.status == Status::StreamEnd,
            "{progress:?}: room left, input left, and no end"
        );
    }
}

/// Runs `stream` through an inflater with input pieces ending at
/// `ends` and output buffers of the sizes `outputs` gives. Also returns
/// the last output buffer, which after an error holds what the failing
/// call wrote.
fn run(
    inflater: &mut Inflater<Vec<u8>>,
    stream: &[u8],
    ends: &[usize],
    mut outputs: impl FnMut() -> usize,
) -> (Outcome, Vec<u8>) {
    let mut bytes = Vec::new();
    let mut pos = 0;
    let mut piece = 0;
    let mut buffer = Vec::new();
    let mut calls = 0u32;
    let end = loop {
        // The input the caller has so far: up to the current piece's end.
        let until = ends.get(piece).copied().unwrap_or(stream.len()).max(pos);
        let input = &stream[pos..until];
        buffer.clear();
        buffer.resize(outputs(), 0);
        calls += 1;
        assert!(calls < 5_000_000, "no progress");
        match inflater.inflate(input, &mut buffer) {
            Err(e) => {
                assert_eq!(inflater.inflate(&[], &mut [0u8; 4]), Err(e), "not sticky");
                break Err(e);
            }
            Ok(progress) => {
                check_contract(&progress, input.len(), buffer.len());
                bytes.extend_from_slice(&buffer[..progress.produced]);
                pos += progress.consumed;
                match progress.status {
                    Status::StreamEnd => break Ok(Status::StreamEnd),
                    Status::NeedInput if until >= stream.len() => break Ok(Status::NeedInput),
                    Status::NeedInput => piece += 1,
                    Status::OutputFull => {}
                }
            }
        }
    };
    let consumed = pos;
    (Outcome { bytes, end, consumed }, buffer)
}

fuzz_target!(|data: &[u8]| {
    let [window, seed, ref stream @ ..] = *data else {
        return;
    };
    let window_len = [32768, 256, 4096, 1000][usize::from(window % 4)];
    let mut inflater = Inflater::new(vec![0u8; window_len]);

    // One big call (repeated only if the output fills up).
    let (whole, last_buffer) = run(&mut inflater, stream, &[], || 1 << 16);

    // In pieces, with small output buffers.
    inflater.reset();
    let ends = common::Chunks::new(&[seed], 64).ends(stream.len());
    let mut sizes = common::Chunks::new(&[seed, window], 300);
    let (pieces, _) = run(&mut inflater, stream, &ends, || sizes.next_size());
    match (whole.end, pieces.end) {
        // A failing call reports no progress, so the bytes before an error
        // depend on how much earlier calls returned: both are a prefix of
        // the data, which the big call's buffer holds.
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "different errors");
            let written = whole.bytes.iter().chain(&last_buffer);
            assert!(
                pieces.bytes.iter().zip(written).all(|(x, y)| x == y),
                "the pieces' bytes before the error differ"
            );
        }
        _ => assert_eq!(whole, pieces, "pieces and one call disagree"),
    }

    // A stream we decode to its end is valid: miniz_oxide agrees.
    if whole.end == Ok(Status::StreamEnd) {
        match miniz_oxide::inflate::decompress_to_vec_with_limit(stream, 1 << 24) {
            Ok(theirs) => assert_eq!(theirs, whole.bytes, "miniz_oxide decodes otherwise"),
            Err(e) => panic!("miniz_oxide rejects a stream we accept: {:?}", e.status),
        }
        // What follows the final block may be another stream that uses
        // the window (RFC 7692 §7.2.3.4): it must not panic either.
        inflater.reset();
        let (_, _) = run(&mut inflater, stream, &[], || 1 << 16);
        inflater.continue_after_final_block();
        let rest = &stream[whole.consumed..];
        let (_, _) = run(&mut inflater, rest, &[], || 4096);
    }
});
