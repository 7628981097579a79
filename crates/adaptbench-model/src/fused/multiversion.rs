//! Run-time CPU feature dispatch for the fused kernels.

/// Instruction-set levels the kernels are compiled for, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Portable,
    /// AVX2 + FMA.
    Avx2,
    /// AVX2 + FMA + AVX-512 F and VL.
    Avx512,
}

impl Level {
    #[cfg(test)]
    pub(crate) const ALL: [Level; 3] = [Level::Portable, Level::Avx2, Level::Avx512];
}

/// The highest level this CPU supports (`is_x86_feature_detected!` caches its answers, so this is cheap).
pub(crate) fn cpu_level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected;
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl") {
                return Level::Avx512;
            }
            return Level::Avx2;
        }
    }
    Level::Portable
}

/// The level the kernels run at: the CPU's, lowered in tests (`test_cap`).
pub(crate) fn level() -> Level {
    let level = cpu_level();
    #[cfg(test)]
    let level = level.min(Level::ALL[test_cap::CAP.load(std::sync::atomic::Ordering::Relaxed) as usize]);
    level
}

/// Compiles `$body` three times, plainly, with AVX2 + FMA, and with AVX-512 (F and VL) on top, and runs the
/// copy of [`level`]. The AVX-512 copy is there for its 32 vector registers as much as for its width: with 16,
/// the attention kernel's blocked sums spill accumulators to the stack, a store and a reload in every step of
/// a dependent chain. All copies do the same IEEE operations in the same order (no fast-math, Rust never
/// contracts a multiply and an add into an FMA, and an explicit `mul_add` is one correctly rounded FMA in every
/// copy, a libm call in the plain one), so they agree bit for bit (`fused/tests.rs` checks it).
macro_rules! multiversion {
    ($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn portable($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                unsafe fn avx512($($arg: $ty),*) {
                    portable($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    portable($($arg),*)
                }
                match $crate::fused::multiversion::level() {
                    // SAFETY: `level` only returns a level whose features the CPU supports.
                    $crate::fused::multiversion::Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::fused::multiversion::Level::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::fused::multiversion::Level::Portable => {}
                }
            }
            portable($($arg),*)
        }
    };
}

/// Lowering the level in tests, to check that every copy gives the same bits.
#[cfg(test)]
pub(crate) mod test_cap {
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::Mutex;

    use super::Level;

    /// Index into [`Level::ALL`] of the highest level kernels may use (process-wide, so that rayon's workers
    /// see it too).
    pub(crate) static CAP: AtomicU8 = AtomicU8::new(Level::Avx512 as u8);
    /// Held by a test while it lowers [`CAP`], so that two such tests do not interleave.
    pub(crate) static LOCK: Mutex<()> = Mutex::new(());

    /// Runs `f` with the kernels capped at `cap` (the caller holds [`LOCK`]).
    pub(crate) fn with_level_cap<T>(cap: Level, f: impl FnOnce() -> T) -> T {
        CAP.store(cap as u8, Ordering::Relaxed);
        let out = f();
        CAP.store(Level::Avx512 as u8, Ordering::Relaxed);
        out
    }
}
