//! The process's allocator: jemalloc, as RocksDB recommends. With glibc's
//! malloc a fifth of webhook ingest's CPU went to allocating and freeing
//! (profiled in P1), and the many short-lived buffers of the engine left
//! its arenas fragmented, which held the server's memory far above the
//! database's budget (P2). It replaces `malloc` itself (the unprefixed
//! build), so RocksDB's C++ side allocates from it too.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Freed memory goes back to the system within a second, by jemalloc's
/// own background thread rather than on the allocating threads, so that a
/// burst (an export, a campaign) does not keep its peak for long.
#[allow(non_upper_case_globals)]
#[export_name = "malloc_conf"]
pub static malloc_conf: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[cfg(test)]
mod tests {
    #[test]
    fn the_process_runs_on_jemalloc_with_our_settings() {
        use tikv_jemalloc_ctl::{background_thread, raw, thread};
        // This thread's own counter: the process-wide total moves with
        // whatever the tests running beside this one allocate and free.
        let allocated_here = thread::allocatedp::read().unwrap();
        let before = allocated_here.get();
        let block = std::hint::black_box(vec![1u8; 64 << 20]);
        assert!(allocated_here.get() >= before + (64 << 20), "Rust's allocations go through jemalloc");
        drop(block);
        // C's malloc, as RocksDB's C++ calls it, lands in jemalloc as well.
        extern "C" {
            fn malloc(size: usize) -> *mut std::ffi::c_void;
            fn free(pointer: *mut std::ffi::c_void);
        }
        let before = allocated_here.get();
        // SAFETY: a plain allocation, freed just below.
        let pointer = unsafe { malloc(32 << 20) };
        assert!(!pointer.is_null());
        assert!(allocated_here.get() >= before + (32 << 20), "C's malloc goes through jemalloc");
        // SAFETY: allocated by malloc above, freed once.
        unsafe { free(pointer) };
        assert!(background_thread::read().unwrap(), "the background purging thread is on");
        // SAFETY: "opt.dirty_decay_ms" is an ssize_t option.
        let decay: isize = unsafe { raw::read(b"opt.dirty_decay_ms\0") }.unwrap();
        assert_eq!(decay, 1000);
    }
}
