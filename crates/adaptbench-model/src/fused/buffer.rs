//! Output buffers that a kernel writes in full, allocated without the zero-fill of `vec![0.0; n]`: the
//! allocator hands back recycled memory, so zeroing every output first cost ≈ 4% of a training step in
//! `memset` alone (perf, d_model 64).

use std::mem::{ManuallyDrop, MaybeUninit};

/// `len` uninitialised elements, for a kernel to write through [`MaybeUninit::write`].
pub fn uninit(len: usize) -> Vec<MaybeUninit<f32>> {
    let mut buffer = Vec::with_capacity(len);
    // SAFETY: the capacity is at least `len`, and `MaybeUninit` needs no initialisation.
    unsafe { buffer.set_len(len) };
    buffer
}

/// The buffer as plain `f32`s once a kernel has written it.
///
/// # Safety
/// Every element of `buffer` must have been written.
pub unsafe fn assume_init(buffer: Vec<MaybeUninit<f32>>) -> Vec<f32> {
    let mut buffer = ManuallyDrop::new(buffer);
    // SAFETY: `MaybeUninit<f32>` has the layout of `f32`, so the allocation, length and capacity carry over
    // unchanged; the caller guarantees that every element is initialised.
    unsafe { Vec::from_raw_parts(buffer.as_mut_ptr().cast::<f32>(), buffer.len(), buffer.capacity()) }
}

/// A slice of a kernel's buffer, as plain `f32`s, once the kernel has written it.
///
/// # Safety
/// Every element of `slice` must have been written.
pub unsafe fn written(slice: &[MaybeUninit<f32>]) -> &[f32] {
    // SAFETY: `MaybeUninit<f32>` has the layout of `f32`; the caller guarantees that every element is initialised.
    unsafe { std::slice::from_raw_parts(slice.as_ptr().cast::<f32>(), slice.len()) }
}
