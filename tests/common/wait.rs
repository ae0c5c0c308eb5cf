//! Bounded waiting, so that no test can hang: every wait has a deadline,
//! and missing it is a failure with a message, never a stuck test run.

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Polls `condition` until it holds or `timeout` passes; returns whether it
/// held.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `f` on its own thread and returns its result, or panics if it has
/// not finished within `timeout` (the thread is then left behind).
pub fn bounded<T: Send + 'static>(timeout: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(timeout) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("did not finish within {timeout:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the bounded closure panicked"),
    }
}
