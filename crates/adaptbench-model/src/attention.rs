//! Causal multi-head self-attention with separate q, k, v, o projections (named as HF PEFT's LoRA targets).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::Tensor;

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
        let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: true };
        let context = attention(q, k, v, None, None, options); // [batch, heads, seq, head_dim]
        let context = context.swap_dims(1, 2).reshape([batch, seq, d_model]);
        self.o.forward(context)
    }
}
