//! Causal multi-head self-attention with separate q, k, v, o projections (named as HF PEFT's LoRA targets).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Tensor, TensorData};

/// Causal multi-head self-attention. Uses burn's fused `attention` op (scale 1/√d_head, causal), which the
/// CPU backend runs as one kernel in the forward-only path and autodiff differentiates through its reference
/// decomposition.
#[derive(Module, Debug)]
pub struct CausalSelfAttention {
    pub q: Linear,
    pub k: Linear,
    pub v: Linear,
    pub o: Linear,
    pub n_heads: usize,
}

impl CausalSelfAttention {
    /// # Shapes
    /// - `x`: `[batch, seq, d_model]`
    /// - output: `[batch, seq, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, seq, d_model] = x.dims();
        let head_dim = d_model / self.n_heads;
        // [batch, seq, d_model] → [batch, heads, seq, head_dim]
        let split_heads = |t: Tensor<3>| t.reshape([batch, seq, self.n_heads, head_dim]).swap_dims(1, 2);
        let q = split_heads(self.q.forward(x.clone()));
        let k = split_heads(self.k.forward(x.clone()));
        let v = split_heads(self.v.forward(x));
        let context = if q.is_autodiff() {
            differentiable_attention(q, k, v)
        } else {
            let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: true };
            attention(q, k, v, None, None, options) // [batch, heads, seq, head_dim]
        };
        let context = context.swap_dims(1, 2).reshape([batch, seq, d_model]);
        self.o.forward(context)
    }
}

/// softmax(q kᵀ / √d_head + causal bias) v with as few full-size intermediates as autodiff allows: the scale is
/// applied to q (a quarter of the scores' size here), and the causal mask is one broadcast add of a constant
/// 0 / −∞ bias instead of building and filling a boolean mask on every call.
///
/// # Shapes
/// - `q`, `k`, `v`: `[batch, heads, seq, head_dim]` → output `[batch, heads, seq, head_dim]`
fn differentiable_attention(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Tensor<4> {
    let [_, _, seq, head_dim] = q.dims();
    let q = q.mul_scalar(1.0 / (head_dim as f64).sqrt());
    let scores = q.matmul(k.swap_dims(2, 3)); // [batch, heads, seq, seq]
    let bias = causal_bias(seq, &scores.device()).reshape([1, 1, seq, seq]);
    softmax(scores + bias, 3).matmul(v)
}

/// `[seq, seq]` with 0 where key ≤ query and −∞ above the diagonal.
fn causal_bias(seq: usize, device: &burn::tensor::Device) -> Tensor<2> {
    let bias: Vec<f32> = (0..seq * seq)
        .map(|i| if i % seq > i / seq { f32::NEG_INFINITY } else { 0.0 })
        .collect();
    Tensor::from_data(TensorData::new(bias, [seq, seq]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn the_differentiable_path_equals_the_fused_kernel() {
        let device = Device::flex();
        device.seed(5);
        let shape = [3, 2, 7, 8];
        let [q, k, v] = [0, 1, 2].map(|_| Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device));
        let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: true };
        let fused: Vec<f32> = attention(q.clone(), k.clone(), v.clone(), None, None, options)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let reference: Vec<f32> = differentiable_attention(q, k, v).into_data().try_to_vec::<f32>().unwrap();
        for (a, b) in fused.iter().zip(&reference) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn the_causal_bias_hides_only_future_keys() {
        let bias: Vec<f32> = causal_bias(3, &burn::tensor::Device::flex()).into_data().try_to_vec::<f32>().unwrap();
        let inf = f32::NEG_INFINITY;
        assert_eq!(bias, vec![0.0, inf, inf, 0.0, 0.0, inf, 0.0, 0.0, 0.0]);
    }
}
