//! A global allocator for tests that measure memory: it forwards every call
//! to the system allocator and reports each change in live heap bytes to a
//! function of the test's choosing (process-wide or per-thread bookkeeping).
//!
//! Test code only: the library itself forbids `unsafe`.

use std::alloc::{GlobalAlloc, Layout, System};

/// Forwards to `System`, calling `.0` with the change in live bytes.
pub struct CountingAllocator(pub fn(isize));

// SAFETY: every call is forwarded unchanged to `System`; the bookkeeping
// function is given only a number and must not allocate (both users keep
// atomics or const-initialised thread-locals without destructors).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            (self.0)(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            (self.0)(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        (self.0)(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if !new.is_null() {
            (self.0)(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// Process-wide bookkeeping: live and peak heap bytes of every thread.
#[allow(dead_code)] // std_messages keeps per-thread books instead.
pub mod process {
    use std::sync::atomic::{AtomicIsize, Ordering};

    static LIVE: AtomicIsize = AtomicIsize::new(0);
    static PEAK: AtomicIsize = AtomicIsize::new(0);

    /// The function to give [`CountingAllocator`](super::CountingAllocator).
    pub fn track(delta: isize) {
        let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    /// Live heap bytes now.
    pub fn live_heap() -> isize {
        LIVE.load(Ordering::Relaxed)
    }

    /// Starts a new peak measurement from the current live bytes, and
    /// returns them.
    pub fn reset_peak() -> isize {
        let now = live_heap();
        PEAK.store(now, Ordering::Relaxed);
        now
    }

    /// How far the heap rose above `base` since [`reset_peak`].
    pub fn peak_above(base: isize) -> usize {
        (PEAK.load(Ordering::Relaxed) - base).max(0) as usize
    }
}

/// Per-thread bookkeeping: the heap bytes this thread holds, and their peak.
#[allow(dead_code)] // each user takes what it needs
pub mod thread {
    use std::cell::Cell;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    /// The function to give [`CountingAllocator`](super::CountingAllocator).
    pub fn track(delta: isize) {
        // `try_with`: the thread-locals may already be gone while a thread ends.
        let _ = LIVE.try_with(|live| {
            let now = live.get() + delta;
            live.set(now);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        });
    }

    /// The bytes this thread holds now.
    pub fn live() -> isize {
        LIVE.with(Cell::get)
    }

    /// Starts a new peak from what this thread holds now, and returns it.
    pub fn reset_peak() -> isize {
        let now = live();
        PEAK.with(|peak| peak.set(now));
        now
    }

    /// The most this thread held since [`reset_peak`].
    pub fn peak() -> isize {
        PEAK.with(Cell::get)
    }
}
