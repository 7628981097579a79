//! Reproducible random draws from burn's device generator.

use burn::tensor::Device;

/// Seeds `device`'s generator with `seed` and runs `draw` while holding a process-wide lock.
///
/// burn draws random tensors (initial weights, LoRA's A factor) from one process-wide generator shared by
/// every thread; seeding and drawing under one lock keeps concurrent draws (parallel tests, several cells)
/// from interleaving. `draw` must force every draw it needs before returning: burn initialises parameters
/// lazily, at their first use.
pub fn with_device_seed<T>(device: &Device, seed: u64, draw: impl FnOnce() -> T) -> T {
    static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = DEVICE_RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    draw()
}
