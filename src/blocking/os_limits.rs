//! What the operating system lets one process hold, read where Linux shows
//! it (`/proc`, no dependency needed), so a [`Server`](super::Server) can
//! refuse at the real limit instead of failing silently past it.
//!
//! A connection costs the server one descriptor (its socket) and one thread.
//! The limits that decide how many a process can hold on Linux:
//!
//! | limit | where | what it bounds |
//! |---|---|---|
//! | open files (`RLIMIT_NOFILE`) | `ulimit -n`, `/proc/self/limits` | one descriptor per connection, plus the listener and a few more |
//! | processes (`RLIMIT_NPROC`) | `ulimit -u` | threads of the user, all processes together |
//! | `kernel.threads-max`, `kernel.pid_max` | `/proc/sys/kernel/` | threads of the whole machine (each thread takes a pid) |
//! | `vm.max_map_count` | `/proc/sys/vm/` | memory mappings of the process: each thread's stack and its guard page are two |
//! | memory | RAM | the touched stack of each thread and the connection's buffers |
//!
//! Two are checked up front, because their failure would be silent or fatal:
//!
//! * the descriptor limit, commonly low (1024 on many systems): past it
//!   `accept` fails, and the client waits in the backlog unanswered;
//! * the memory-map limit: std gives every thread an alternate signal stack,
//!   and a thread that cannot map one aborts the whole process. With four
//!   mappings per thread, the default limit of 65,530 allows about 16,300
//!   threads, fewer than the other limits on most machines.
//!
//! A thread that cannot be created for another reason (the process limit,
//! memory) is answered with 503 when it happens.

use std::fs;

/// The process's soft limit on open descriptors, where it can be read
/// (Linux: `/proc/self/limits`); `None` when it is unknown or unlimited.
pub(crate) fn open_files_limit() -> Option<usize> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files_limit(&limits)
}

/// The soft limit on the "Max open files" line of `/proc/self/limits`:
/// `Max open files            1024                 524288               files`.
fn parse_open_files_limit(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// How many descriptors the process has open now (Linux: the entries of
/// `/proc/self/fd`, less the one that reading the directory opens).
pub(crate) fn open_files() -> Option<usize> {
    let entries = fs::read_dir("/proc/self/fd").ok()?;
    Some(entries.count().saturating_sub(1))
}

/// The most memory mappings a process may have (Linux:
/// `/proc/sys/vm/max_map_count`, 65,530 by default).
pub(crate) fn map_count_limit() -> Option<usize> {
    let limit = fs::read_to_string("/proc/sys/vm/max_map_count").ok()?;
    limit.trim().parse().ok()
}

/// How many memory mappings the process has now (Linux: the lines of
/// `/proc/self/maps`).
pub(crate) fn map_count() -> Option<usize> {
    let maps = fs::read_to_string("/proc/self/maps").ok()?;
    Some(maps.lines().count())
}

/// The mappings one thread of std adds: its stack and the stack's guard
/// page, and the alternate signal stack and its guard page (the one std
/// needs to report a stack overflow). Measured on Linux (glibc and musl):
/// `examples/idle_connections` prints it.
pub(crate) const MAPS_PER_THREAD: usize = 4;

/// Whether `accept` failed because the process (`EMFILE`) or the system
/// (`ENFILE`) is out of descriptors. The client stays in the backlog then;
/// the server must make room to answer it.
pub(crate) fn is_out_of_descriptors(error: &std::io::Error) -> bool {
    // EMFILE and ENFILE are 24 and 23 on Linux, the BSDs and macOS.
    cfg!(unix) && matches!(error.raw_os_error(), Some(23 | 24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_soft_limit_of_open_files() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max processes             96363                96363                processes\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_open_files_limit(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files_limit(unlimited), None);
        assert_eq!(parse_open_files_limit("nothing here"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_limit_and_count_are_read() {
        let limit = open_files_limit().expect("Linux shows /proc/self/limits");
        let open = open_files().expect("Linux shows /proc/self/fd");
        // stdin, stdout and stderr at least; never more than allowed.
        assert!(open >= 3 && open <= limit, "{open} open of {limit}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_maps_and_their_limit_are_read() {
        let limit = map_count_limit().expect("Linux shows vm.max_map_count");
        let maps = map_count().expect("Linux shows /proc/self/maps");
        assert!(maps > 0 && maps < limit, "{maps} maps of {limit}");
    }

    #[test]
    fn out_of_descriptors_is_recognised_by_its_errno() {
        let emfile = std::io::Error::from_raw_os_error(24);
        let enfile = std::io::Error::from_raw_os_error(23);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(is_out_of_descriptors(&emfile), cfg!(unix));
        assert_eq!(is_out_of_descriptors(&enfile), cfg!(unix));
        assert!(!is_out_of_descriptors(&refused));
    }
}
