//! The command line every example shares.
//!
//! - `-h` or `--help` prints the example's usage to stdout and exits 0.
//! - An error is printed with `Display` (the text the crate wrote for a
//!   person), as `error: …` on stderr, and the exit status is 1.
//!
//! An example includes this file with
//! `#[path = "common/cli.rs"] mod cli;` and starts with
//! `let args = cli::args(USAGE);`.

// Not every example needs every function here.
#![allow(dead_code)]

use std::fmt::Display;
use std::process::exit;

/// The arguments after the program's name. `-h` or `--help` before any
/// `--` prints `usage` and exits 0.
pub fn args(usage: &str) -> Vec<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wants_help = args
        .iter()
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "-h" || arg == "--help");
    if wants_help {
        print!("{usage}");
        if !usage.ends_with('\n') {
            println!();
        }
        exit(0);
    }
    args
}

/// Prints `error: {message}` to stderr and exits 1.
pub fn fail(message: impl Display) -> ! {
    eprintln!("error: {message}");
    exit(1);
}

/// For a wrong command line: the error, a pointer to `--help`, exit 1.
pub fn usage_error(message: impl Display) -> ! {
    eprintln!("error: {message}");
    eprintln!("(run with --help for the usage)");
    exit(1);
}

/// Ends `main`: exit 0 on `Ok`, else [`fail`] with the error.
pub fn finish<E: Display>(result: Result<(), E>) -> ! {
    match result {
        Ok(()) => exit(0),
        Err(e) => fail(e),
    }
}

/// Adds what was being done to an error: `cannot listen on 127.0.0.1:9001:
/// Address already in use`.
pub fn context<T, E: Display>(result: Result<T, E>, doing: impl Display) -> Result<T, String> {
    result.map_err(|e| format!("{doing}: {e}"))
}

/// A byte count: `16`, `1k`, `64KiB`, `1m` (k = 1024). `flag` names the
/// option in the error.
pub fn size(flag: &str, value: &str) -> Result<usize, String> {
    let lower = value.trim().to_ascii_lowercase();
    let (digits, unit) = if let Some(n) = lower
        .strip_suffix("kib")
        .or_else(|| lower.strip_suffix('k'))
    {
        (n, 1 << 10)
    } else if let Some(n) = lower
        .strip_suffix("mib")
        .or_else(|| lower.strip_suffix('m'))
    {
        (n, 1 << 20)
    } else {
        (lower.as_str(), 1)
    };
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| format!("{flag} {value:?}: not a byte count (like 4096, 64k, 1m)"))
}

/// A number of seconds, fractions allowed (`0.5`), at most a day. `flag`
/// names the option in the error.
pub fn seconds(flag: &str, value: &str) -> Result<std::time::Duration, String> {
    match value.trim().parse::<f64>() {
        Ok(secs) if (0.0..=86_400.0).contains(&secs) => {
            Ok(std::time::Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "{flag} {value:?}: not a number of seconds from 0 to 86400"
        )),
    }
}
