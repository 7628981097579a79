//! The process's allocator, shared by the binary and the benchmarks (`#[path]`-included there). burn-flex and
//! the fused kernels allocate a fresh buffer for most ops; glibc's malloc returns large ones to the kernel and
//! pays page faults to get them back. mimalloc keeps them, but by default still purges freed memory back to the
//! kernel after a delay, and training's step-sized buffers then come back as fresh (huge) pages the kernel
//! must clear: with purging off, the same one-thread training step ran 60.8k → 82.8k tokens/s back to back
//! (README, "Speed"), at ≈ 20 MB more resident memory.

use std::ffi::{c_int, c_long};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`'s place in mimalloc v3's `mi_option_e` (libmimalloc-sys names no constant for it).
const PURGE_DELAY: c_int = 15;

/// Turns mimalloc's purging off (`purge_delay = −1`), so that freed memory stays mapped for reuse. Call it
/// first thing in `main`.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` stores an option's value; it is not thread-safe, and `main` calls it before
    // starting any thread.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1 as c_long) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_the_one_with_mimallocs_1000_ms_default() {
        // Guards the hard-coded enum position: at that position mimalloc must hold purge_delay's default,
        // 1000 ms in v3's options.c (or the value the environment gave it).
        let expected = std::env::var("MIMALLOC_PURGE_DELAY").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
        // SAFETY: reading an option has no preconditions.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) }, expected);
    }
}
