//! The example programs, for tests that run them as a user would.
//!
//! `cargo test` builds the examples before it runs the integration tests,
//! into `target/<profile>/examples/`, next to `target/<profile>/deps/<test>`.
//! A test run on its own (`cargo test --test chat`) may find one missing or
//! older than its source; it is built then, within a bounded time.

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// The path of example `name`, built first if it is missing or older than
/// `examples/<name>.rs`.
pub fn example_binary(name: &str) -> PathBuf {
    // One build at a time, and a second caller sees the first one's result.
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|p| p.into_inner());
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let modified = |path: &PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if modified(&binary) >= modified(&source) {
        return binary;
    }
    let target_dir = profile_dir.parent().expect("target dir");
    let mut args = vec!["build", "--example", name];
    if profile_dir.ends_with("release") {
        args.push("--release");
    }
    let mut cargo = Command::new(env!("CARGO"))
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .spawn()
        .expect("run cargo");
    // Generous (it may wait for another build's lock), but bounded.
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = cargo.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = cargo.kill();
            let _ = cargo.wait();
            panic!("building the {name} example took over 10 minutes");
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "building the {name} example failed");
    binary
}
