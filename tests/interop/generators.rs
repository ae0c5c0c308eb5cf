//! The payload generators of the interop tests, shared by
//! tests/interop_python.rs and tests/interop_node.rs: the same bytes as
//! `common.payload` (tests/interop/common.py) and `payload`
//! (tests/interop-node/deflate_peer.mjs), so that each side of a test
//! checks what it received without the bytes (or a hash) crossing over.
//! Keep the three in step. tests/compression.rs takes its texts and noise
//! from here too ([`json_records`] and [`noise`] from other starts).

#![allow(dead_code)] // each test uses the part it needs

use wslite::{DataKind, Message};

/// 1-, 2-, 3- and 4-byte UTF-8 characters, so that sizes and fragment
/// boundaries fall inside characters.
pub const TEXT_UNIT: &str = "wslite→Python ✓ é 😀 interop; ";

/// The expected content of a message of `kind` and `size` bytes; the same
/// bytes as `common.payload` in Python.
pub fn payload(kind: DataKind, size: usize) -> Vec<u8> {
    match kind {
        // A period of 251 (prime): a byte out of place or a mask applied at
        // the wrong offset shows.
        DataKind::Binary => (0..size).map(|i| ((i % 251) * 31 + 7) as u8).collect(),
        DataKind::Text => {
            let unit = TEXT_UNIT.as_bytes();
            let mut data: Vec<u8> = unit.iter().copied().cycle().take(size).collect();
            // The cut may split the last character: dots replace its bytes.
            let valid = match std::str::from_utf8(&data) {
                Ok(_) => size,
                Err(e) => e.valid_up_to(),
            };
            data[valid..].fill(b'.');
            data
        }
    }
}

/// A message of one of the generators of `common.payload` by name: "text"
/// and "binary" as [`payload`], "json" (JSON-like records, text) and
/// "random" (xorshift32 noise, binary).
pub fn generated(name: &str, size: usize) -> Vec<u8> {
    match name {
        "text" => payload(DataKind::Text, size),
        "binary" => payload(DataKind::Binary, size),
        "json" => json_records(size, 0).into_bytes(),
        "random" => noise(size, 2463534242),
        other => panic!("no generator {other:?}"),
    }
}

/// JSON-like records, numbered from `first`, cut at `size` bytes: "json"
/// of [`generated`] numbers them from 0 (`common.json_record` in Python);
/// other starts make other texts of the same kind.
pub fn json_records(size: usize, first: u64) -> String {
    let mut out = String::from("[");
    let mut n = first;
    while out.len() < size {
        let active = if n % 3 != 0 { "true" } else { "false" };
        let score = (n * 7919) % 1000;
        out.push_str(&format!(
            "{{\"id\":{n},\"user\":\"user-{n}\",\"active\":{active},\"score\":{score},\"tags\":[\"alpha\",\"beta\"]}},"
        ));
        n += 1;
    }
    out.truncate(size);
    out
}

/// Bytes that do not compress: xorshift32 from `seed` (not 0, xorshift's
/// one fixed point). "random" of [`generated`] starts from 2463534242.
pub fn noise(size: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The data kind of a generator's messages.
pub fn generated_kind(name: &str) -> DataKind {
    match name {
        "text" | "json" => DataKind::Text,
        _ => DataKind::Binary,
    }
}

/// A generator's message as a [`Message`].
pub fn generated_message(name: &str, size: usize) -> Message {
    let data = generated(name, size);
    match generated_kind(name) {
        DataKind::Text => Message::Text(String::from_utf8(data).unwrap()),
        DataKind::Binary => Message::Binary(data),
    }
}

/// Whether `data` is what one of the generators of its kind makes.
pub fn is_generated(kind: DataKind, data: &[u8]) -> bool {
    let names: &[&str] = match kind {
        DataKind::Text => &["text", "json"],
        DataKind::Binary => &["binary", "random"],
    };
    names.iter().any(|name| generated(name, data.len()) == data)
}
