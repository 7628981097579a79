//! The matrix products of a `Linear` layer on flex tensors, forward (`y = x W + b`) and backward
//! (`dx = dy Wᵀ`, `dW = xᵀ dy`), through the same gemm calls burn-flex makes, so the numbers are the same bit
//! for bit. What differs is the output buffer: burn-flex zero-fills a byte vector and then copies it into an
//! aligned one for every product; here gemm writes straight into a fresh `Vec<f32>`.

use burn::backend::flex::FlexTensor;

/// burn-flex's threshold (`m·n·k`) above which a product is split across the rayon pool.
const PARALLEL_THRESHOLD: usize = 192 * 192 * 192;

/// `C = A B` for 2-D flex tensors `A` `[m, k]` and `B` `[k, n]` of any strides (a transposed view included),
/// row-major `[m, n]`.
pub fn matmul(lhs: &FlexTensor, rhs: &FlexTensor) -> Vec<f32> {
    let (lhs_shape, rhs_shape) = (lhs.layout().shape(), rhs.layout().shape());
    assert!(lhs_shape.num_dims() == 2 && rhs_shape.num_dims() == 2 && lhs_shape[1] == rhs_shape[0], "matmul of {lhs_shape:?} and {rhs_shape:?}");
    let (m, k, n) = (lhs_shape[0], lhs_shape[1], rhs_shape[1]);
    let [lhs_rs, lhs_cs] = [lhs.layout().strides()[0], lhs.layout().strides()[1]];
    let [rhs_rs, rhs_cs] = [rhs.layout().strides()[0], rhs.layout().strides()[1]];
    let lhs_data = &lhs.storage::<f32>()[lhs.layout().start_offset()..];
    let rhs_data = &rhs.storage::<f32>()[rhs.layout().start_offset()..];
    let parallelism = if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_THRESHOLD { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    let mut out = Vec::<f32>::with_capacity(m * n);
    // SAFETY: the operands' shapes, strides and offsets are their flex layouts', which stay inside their buffers;
    // `out` holds m·n elements, addressed row-major. With `read_dst` false and α = 0, gemm writes every element
    // of the destination (zeros when k = 0) and reads none, so all m·n are initialised when `set_len` runs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs_data.as_ptr(),
            lhs_cs,
            lhs_rs,
            rhs_data.as_ptr(),
            rhs_cs,
            rhs_rs,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
        out.set_len(m * n);
    }
    out
}

multiversion! {
    /// `y[i, j] += b[j]` for every row `i` of the row-major `y`, `[rows, b.len()]`: the inference engine's
    /// loop, compiled at each instruction-set level.
    pub fn add_bias(y: &mut [f32], bias: &[f32]) {
        adaptbench_infer::add_bias(y, bias)
    }
}
