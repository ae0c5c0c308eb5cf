//! The configuration of the compression tests: every wait bounded.

use std::time::Duration;

use wslite::{Compression, Config};

/// The longest any single wait in these tests may take.
pub const LONG: Duration = Duration::from_secs(20);

/// A configuration whose every wait is bounded, compressing as `c` says.
pub fn config(c: Option<Compression>) -> Config {
    Config::default()
        .read_timeout(Some(LONG))
        .write_timeout(Some(LONG))
        .handshake_timeout(Some(LONG))
        .close_timeout(Duration::from_secs(5))
        .compression(c)
}
