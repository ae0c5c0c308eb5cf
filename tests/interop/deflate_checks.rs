//! The permessage-deflate (RFC 7692) checks of the interop tests, shared by
//! tests/interop_python.rs and tests/interop_node.rs: the messages both
//! peers exchange ([`DEFLATE_MESSAGES`], as `common.DEFLATE_MESSAGES` in
//! tests/interop/common.py and `MESSAGES` in
//! tests/interop-node/deflate_peer.mjs: keep the three in step), what the
//! peer's socket saw of each ([`Trip`]), and what those counts must show of
//! compression, thresholds and context takeover ([`check_direction`]).

#![allow(dead_code)] // each test uses the part it needs

use wslite::permessage_deflate::negotiation::Agreed;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// The messages of the compression tests, (generator, size): under our
/// 1 KiB threshold; 2 KiB of noise twice (the second costs a few bytes with
/// context takeover and a window that reaches back over it); 10 KiB of
/// text; 1 MiB of JSON-like text; 64 KiB of noise (stored); 100 KiB of the
/// period-251 binary.
pub const DEFLATE_MESSAGES: [(&str, usize); 7] = [
    ("text", 100),
    ("random", 2 * KIB),
    ("random", 2 * KIB),
    ("text", 10 * KIB),
    ("json", MIB),
    ("random", 64 * KIB),
    ("binary", 100 * KIB),
];

/// Our side's threshold (and ws's default one): shorter messages go
/// uncompressed.
pub const THRESHOLD: usize = 1024;

/// What was agreed, as (server_max_window_bits, client_max_window_bits,
/// server_no_context_takeover, client_no_context_takeover).
pub fn agreed(agreed: &Option<Agreed>) -> Option<(u8, u8, bool, bool)> {
    agreed.map(|a| {
        (
            a.server_max_window_bits,
            a.client_max_window_bits,
            a.server_no_context_takeover,
            a.client_no_context_takeover,
        )
    })
}

/// One message's trip one way, as the peer's socket saw it: whether its
/// first frame had RSV1, its payload bytes on the wire, and, where the peer
/// counts them (Python's `DeflateWatch` does, ws does not), its bytes once
/// inflated.
#[derive(Debug, PartialEq)]
pub struct Trip {
    pub rsv1: bool,
    pub wire: u64,
    pub inflated: Option<u64>,
}

/// The checks on one direction's messages: `trips[i]` is message `i` of
/// [`DEFLATE_MESSAGES`] as it went one way, compressed by `by` (`"wslite"`
/// or the peer) with `threshold` (shorter messages go uncompressed), a
/// window of `bits` and context takeover unless `no_takeover`.
pub fn check_direction(
    trips: &[Trip],
    by: &str,
    threshold: usize,
    bits: u8,
    no_takeover: bool,
    what: &str,
) {
    for (t, (name, size)) in trips.iter().zip(DEFLATE_MESSAGES) {
        let what = format!("{what}: {name} of {size} bytes compressed by {by}: {t:?}");
        let compressed = size >= threshold;
        assert_eq!(t.rsv1, compressed, "RSV1: {what}");
        if !compressed {
            assert_eq!(t.wire, size as u64, "{what}");
        }
        if let Some(inflated) = t.inflated {
            assert_eq!(inflated, size as u64, "{what}");
        }
        // zlib matches at most 262 bytes short of its window (MAX_DIST),
        // so with 9 bits it cannot reach back the 251 bytes of the binary's
        // period.
        let reaches_period = by == "wslite" || bits >= 10;
        match name {
            // Repetitive: far below its size on the wire.
            "text" | "json" if compressed && size >= 10 * KIB => {
                assert!(t.wire < size as u64 / 4, "{what}")
            }
            "binary" if compressed && reaches_period => {
                assert!(t.wire < size as u64 / 4, "{what}")
            }
            // Noise: stored, block headers more (zlib with a 512-byte
            // window stores in small blocks: 2.3% more at 9 bits).
            "random" if size > 2 * KIB => assert!(
                t.wire >= size as u64 && t.wire < size as u64 + size as u64 / 16 + 64,
                "{what}"
            ),
            _ => {}
        }
    }
    // The second 2 KiB of noise repeats the first: with context takeover
    // and a window that reaches back over it (4 KiB and up), it costs a few
    // bytes; otherwise as much as the first (RFC 7692 §7.1.1).
    let (first, second) = (&trips[1], &trips[2]);
    let what = format!(
        "{what}: the same 2 KiB of noise twice, compressed by {by}: {first:?} then {second:?}"
    );
    if !no_takeover && bits >= 12 {
        assert!(second.wire < first.wire / 8, "context taken over: {what}");
    } else {
        assert!(
            second.wire > first.wire / 2,
            "no context taken over: {what}"
        );
    }
}

/// The `#[ignore]`d compression tests of a file, `ignore` saying why: for
/// each role, `run over cases { name: range; ... }` makes a test per name
/// that runs `run` on each case of `cases()[range]`, so that a failure
/// names the settings it is about.
macro_rules! deflate_tests {
    (ignore = $why:literal; $($run:ident over $cases:ident { $($name:ident: $range:expr;)* })*) => {
        $($(
            #[test]
            #[ignore = $why]
            fn $name() {
                for case in &$cases()[$range] {
                    $run(case);
                }
            }
        )*)*
    };
}
