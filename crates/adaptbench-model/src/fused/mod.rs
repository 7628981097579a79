//! Fused CPU kernels for the model's hot ops — the exact GELU, LayerNorm, causal multi-head attention, the
//! next-bit cross-entropy and the biased linear layer — each one burn op with a hand-written backward pass
//! instead of the 2–20 ops (and as many backward ops) that burn's decompositions record under autodiff.
//!
//! They are a burn backend extension: the model stays a burn `Module` trained by burn's autodiff and
//! optimizers. The wrappers here run the fused kernel on the flex backend (with or without autodiff) and
//! burn's reference decomposition everywhere else (wgpu), so other backends keep working unchanged. The math
//! is the same as the reference; tests check values and gradients against it to 1e-5 (the linear layer, which
//! makes burn-flex's own gemm calls, bit for bit).

#[macro_use]
pub(crate) mod multiversion;
mod attention_kernel;
mod autodiff;
mod buffer;
mod kernels;
mod linear_kernel;

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, DispatchDevice, Flex};
use burn::nn::{LayerNorm, Linear};
use burn::tensor::activation::{gelu as reference_gelu, log_softmax};
use burn::tensor::{DType, Device, Int, Tensor, TensorData};

use attention_kernel::{AttentionShape, SUPPORTED_HEAD_DIMS};

/// The fused ops, routed by burn's dispatch to flex and to autodiff over flex.
#[backend_extension(Flex, Autodiff)]
pub trait FusedOps: Backend {
    /// [`gelu`] on a contiguous float tensor.
    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// [`layer_norm`] over the last axis of `x`.
    fn fused_layer_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, beta: FloatTensor<Self>, epsilon: f64) -> FloatTensor<Self>;
    /// [`causal_attention`] on `[batch, seq, d_model]` projections.
    fn fused_causal_attention(q: FloatTensor<Self>, k: FloatTensor<Self>, v: FloatTensor<Self>, heads: usize) -> FloatTensor<Self>;
    /// [`next_bit_cross_entropy`] of `[rows, 2]` logits and `[rows]` targets held as floats 0/1.
    fn fused_cross_entropy(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self>;
    /// [`linear`] of `[rows, d_in]` inputs, a `[d_in, d_out]` weight and a `[d_out]` bias.
    fn fused_linear(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FusedOps for Flex {
    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let shape = x.layout().shape().clone();
        flex_tensor(kernels::gelu_forward(f32_slice(&x.to_contiguous())), shape)
    }

    fn fused_layer_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, beta: FloatTensor<Self>, epsilon: f64) -> FloatTensor<Self> {
        let shape = x.layout().shape().clone();
        let (y, _) = kernels::layer_norm_forward(
            f32_slice(&x.to_contiguous()),
            f32_slice(&gamma.to_contiguous()),
            f32_slice(&beta.to_contiguous()),
            epsilon as f32,
        );
        flex_tensor(y, shape)
    }

    fn fused_causal_attention(q: FloatTensor<Self>, k: FloatTensor<Self>, v: FloatTensor<Self>, heads: usize) -> FloatTensor<Self> {
        let dims = q.layout().shape().clone();
        let shape = attention_shape(&dims, heads);
        let [q, k, v] = [q, k, v].map(|t| t.to_contiguous());
        let (out, _) = attention_kernel::attention_forward(f32_slice(&q), f32_slice(&k), f32_slice(&v), shape);
        flex_tensor(out, dims)
    }

    fn fused_cross_entropy(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self> {
        let targets = float_targets(&targets);
        flex_tensor(vec![kernels::cross_entropy_forward(f32_slice(&logits.to_contiguous()), &targets)], [1].into())
    }

    fn fused_linear(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        let shape = [x.layout().shape()[0], weight.layout().shape()[1]];
        let mut y = linear_kernel::matmul(&x, &weight);
        linear_kernel::add_bias(&mut y, f32_slice(&bias.to_contiguous()));
        flex_tensor(y, shape.into())
    }
}

/// Whether tensors on `device` take the fused kernels (flex, with or without autodiff, and `f32`).
pub fn is_fused(device: &Device, dtype: DType) -> bool {
    dtype == DType::F32 && matches!(device.as_dispatch().clone().inner(), DispatchDevice::Flex(_))
}

/// The exact GELU, `GELU(x) = x·Φ(x) = x·½(1 + erf(x/√2))`, element-wise; its derivative is
/// `Φ(x) + x·φ(x)`, `φ(x) = e^{−x²/2}/√(2π)`. Fused: a vectorised rational `erf` (|error| ≤ 1.5e-7) in place of
/// the scalar libm one; under autodiff the forward pass computes the derivative too, so the backward pass is
/// one product.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !is_fused(&x.device(), x.dtype()) {
        return reference_gelu(x);
    }
    Tensor::from_dispatch(<burn::backend::Dispatch as FusedOps>::fused_gelu(x.into_dispatch()))
}

/// burn's `Linear` with a bias on `[rows, d_in]` rows, `y = x W + b` (`W` `[d_in, d_out]`); its gradients are
/// `dx = dy Wᵀ`, `dW = xᵀ dy`, `db = Σ_rows dy`. Fused: the same gemm calls and reductions as burn-flex's
/// matmul, add and sum, so the numbers are identical bit for bit, without burn-flex's zero-filled and then
/// copied output buffer per product (one node instead of matmul and add under autodiff, too). A layer
/// without a bias, or another backend, takes `Linear::forward`.
pub fn linear(linear: &Linear, x: Tensor<2>) -> Tensor<2> {
    match &linear.bias {
        Some(bias) if is_fused(&x.device(), x.dtype()) => Tensor::from_dispatch(<burn::backend::Dispatch as FusedOps>::fused_linear(
            x.into_dispatch(),
            linear.weight.val().into_dispatch(),
            bias.val().into_dispatch(),
        )),
        _ => linear.forward(x),
    }
}

/// burn's LayerNorm over the last axis, `y = (x − μ)/√(σ² + ε) · γ + β` with μ, σ² the mean and population
/// variance of each row (`epsilon` = the module's ε, which burn keeps private). Fused: one pass forward, one
/// backward (`dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))`, `ĝ = dy·γ`, `r = 1/√(σ² + ε)`), instead of burn's 7-op
/// decomposition under autodiff.
pub fn layer_norm<const D: usize>(norm: &LayerNorm, x: Tensor<D>, epsilon: f64) -> Tensor<D> {
    let beta = norm.beta.as_ref().map(|beta| beta.val());
    match beta {
        Some(beta) if is_fused(&x.device(), x.dtype()) => Tensor::from_dispatch(<burn::backend::Dispatch as FusedOps>::fused_layer_norm(
            x.into_dispatch(),
            norm.gamma.val().into_dispatch(),
            beta.into_dispatch(),
            epsilon,
        )),
        _ => norm.forward(x),
    }
}

/// Causal multi-head self-attention on `[batch, seq, heads·d_h]` projections, heads side by side in the last
/// axis: `O_h = softmax(Q_h K_hᵀ/√d_h + M) V_h`, `M` 0 on and below the diagonal and −∞ above. Fused: scores,
/// mask, softmax and the weighted sum in one pass per sequence and head, no split-heads copies, and a backward
/// pass from the kept weights `P`: `dV = Pᵀ dO`, `dS = P ⊙ (dO Vᵀ − rowsum(P ⊙ dO Vᵀ))`, `dQ = dS K/√d_h`,
/// `dK = dSᵀ Q/√d_h`.
///
/// # Shapes
/// - `q`, `k`, `v`, output: `[batch, seq, d_model]`, `d_model` divisible by `heads` (head widths outside
///   4, 8, 16, 32, 64, 128 take the reference path)
pub fn causal_attention(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize) -> Tensor<3> {
    let [_, _, d_model] = q.dims();
    if !is_fused(&q.device(), q.dtype()) || d_model % heads != 0 || !SUPPORTED_HEAD_DIMS.contains(&(d_model / heads)) {
        return reference_attention(q, k, v, heads);
    }
    Tensor::from_dispatch(<burn::backend::Dispatch as FusedOps>::fused_causal_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        heads,
    ))
}

/// Mean next-bit cross-entropy in nats, `−(1/BT) Σ log softmax(logits)[target]`, as a one-element tensor.
/// Fused: one pass forward (`log softmax(l)[t] = −log(1 + e^{l_{1−t} − l_t})`) and `(softmax − onehot)/BT`
/// backward, instead of log-softmax, gather and mean.
///
/// # Shapes
/// - `logits`: `[batch, seq, 2]`, `targets`: `[batch, seq]` → output `[1]`
pub fn next_bit_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    if !is_fused(&logits.device(), logits.dtype()) {
        return reference_cross_entropy(logits, targets);
    }
    let [batch, seq, classes] = logits.dims();
    let logits = logits.reshape([batch * seq, classes]);
    let targets = targets.reshape([batch * seq]).float();
    Tensor::from_dispatch(<burn::backend::Dispatch as FusedOps>::fused_cross_entropy(logits.into_dispatch(), targets.into_dispatch()))
}

/// burn's decomposition of [`causal_attention`]: split heads, `softmax(q kᵀ/√d_h + bias) v`, merge heads.
/// The scale is applied to q (a quarter of the scores' size here) and the causal mask is one broadcast add of a
/// constant 0 / −∞ bias.
pub fn reference_attention(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize) -> Tensor<3> {
    let [batch, seq, d_model] = q.dims();
    let head_dim = d_model / heads;
    // [batch, seq, d_model] → [batch, heads, seq, head_dim]
    let split_heads = |t: Tensor<3>| t.reshape([batch, seq, heads, head_dim]).swap_dims(1, 2);
    let q = split_heads(q).mul_scalar(1.0 / (head_dim as f64).sqrt());
    let scores = q.matmul(split_heads(k).swap_dims(2, 3)); // [batch, heads, seq, seq]
    let bias = causal_bias(seq, &scores.device()).reshape([1, 1, seq, seq]);
    let context = burn::tensor::activation::softmax(scores + bias, 3).matmul(split_heads(v));
    context.swap_dims(1, 2).reshape([batch, seq, d_model])
}

/// burn's decomposition of [`next_bit_cross_entropy`]: log-softmax, gather the target, mean, negate.
pub fn reference_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    let log_probs = log_softmax(logits, 2); // [batch, seq, 2]
    log_probs.gather(2, targets.unsqueeze_dim(2)).squeeze_dim::<2>(2).mean().neg()
}

/// `[seq, seq]` with 0 where key ≤ query and −∞ above the diagonal.
fn causal_bias(seq: usize, device: &Device) -> Tensor<2> {
    let bias: Vec<f32> = (0..seq * seq)
        .map(|i| if i % seq > i / seq { f32::NEG_INFINITY } else { 0.0 })
        .collect();
    Tensor::from_data(TensorData::new(bias, [seq, seq]), device)
}

fn attention_shape(dims: &burn::tensor::Shape, heads: usize) -> AttentionShape {
    let (batch, seq, d_model) = (dims[0], dims[1], dims[2]);
    assert!(dims.num_dims() == 3 && heads > 0 && d_model % heads == 0, "attention on {dims:?} with {heads} heads");
    AttentionShape { batch, seq, heads, head_dim: d_model / heads }
}

/// The `f32` elements of a contiguous flex tensor.
fn f32_slice(tensor: &FloatTensor<Flex>) -> &[f32] {
    tensor.as_slice::<f32>().expect("a contiguous f32 tensor (callers check the dtype)")
}

/// Targets held as floats 0/1 (autodiff tracks floats only), as the kernels' `i64` class indices.
fn float_targets(targets: &FloatTensor<Flex>) -> Vec<i64> {
    f32_slice(&targets.to_contiguous()).iter().map(|&t| t as i64).collect()
}

fn flex_tensor(values: Vec<f32>, shape: burn::tensor::Shape) -> FloatTensor<Flex> {
    burn::backend::flex::FlexTensor::from_data(TensorData::new(values, shape))
}

#[cfg(test)]
mod tests;
