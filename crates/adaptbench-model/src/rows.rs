//! A `Linear` layer applied to `[batch, seq, d]` activations as one `[batch·seq, d]` matmul.
//!
//! burn keeps a 3-D input batched when each sequence's rows fill its matmul tiles, which on the CPU backend
//! runs one small gemm per sequence against the same broadcast weight (and copies the operands for each);
//! folding the rows first gives one large gemm, which also parallelises.

use burn::nn::Linear;
use burn::tensor::Tensor;

use crate::fused::linear;

/// `linear(x)` for `x` of shape `[batch, seq, d_in]` → `[batch, seq, d_out]`, computed on the folded rows.
pub fn linear_rows(linear_layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    let [batch, seq, d_in] = x.dims();
    let y = linear(linear_layer, x.reshape([batch * seq, d_in]));
    let [_, d_out] = y.dims();
    y.reshape([batch, seq, d_out])
}
