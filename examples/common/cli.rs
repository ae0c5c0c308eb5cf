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
