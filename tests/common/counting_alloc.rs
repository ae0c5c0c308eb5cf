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
