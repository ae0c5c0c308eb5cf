//! Running one test alone, in a child process of the same test binary.
//!
//! Tests that count the process's threads, descriptors or memory cannot
//! share the process with the other tests of their binary, which run in
//! parallel. Such a test starts with `if !alone(ENV, "its_name", limit) {
//! return; }`: in the test harness's process that re-runs the binary with
//! only this test, waits for it (bounded in time), prints its `measured:`
//! lines and fails if it failed; in the child, where `ENV` is set, it returns
//! `true` and the test body runs.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A command that runs this test binary again. Under an emulator (the
/// cross tests of `tests/cross/run.sh`, where cargo starts the binary with
/// `qemu-<arch>`), the system cannot run it directly: the emulator is then
/// named, words separated by spaces, in `WSLITE_TEST_RUNNER`, and put first.
pub fn this_test_binary() -> Command {
    let exe = std::env::current_exe().unwrap();
    let runner = std::env::var("WSLITE_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(emulator) => {
            let mut command = Command::new(emulator);
            command.args(words).arg(exe);
            command
        }
        None => Command::new(exe),
    }
}

/// Runs the test `name` alone in a child process with the environment
/// variable `env` set, failing if it fails or takes longer than `limit`.
/// Returns `true` in the child, `false` in the parent once the child passed.
pub fn alone(env: &str, name: &str, limit: Duration) -> bool {
    if std::env::var_os(env).is_some() {
        return true;
    }
    let mut child = this_test_binary()
        .args([
            name,
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "--include-ignored",
        ])
        .env(env, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes on threads, so a chatty child never blocks on a full
    // pipe while the parent waits for it.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child process running {name} did not finish in {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let out = out.join().unwrap();
    let err = err.join().unwrap();
    // The measurements, for whoever reads the test log.
    for line in out
        .lines()
        .filter_map(|l| l.find("measured:").map(|at| &l[at..]))
    {
        println!("{name}: {line}");
    }
    assert!(
        status.success(),
        "{name} failed in its child process ({status}):\n{out}\n{err}"
    );
    assert!(
        out.contains("1 passed"),
        "the child process did not run {name}:\n{out}\n{err}"
    );
    false
}
