//! One pre-LayerNorm Transformer block: `x + attn(LN(x))`, then `x + mlp(LN(x))`.

use burn::module::Module;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;

use crate::attention::CausalSelfAttention;
use crate::fused::{gelu, layer_norm};
use crate::rows::linear_rows;

/// The position-wise MLP, `mlp_out(GELU(mlp_in(x)))`, width `mlp_ratio · d_model`.
#[derive(Module, Debug)]
pub struct Mlp {
    pub mlp_in: Linear,
    pub mlp_out: Linear,
}

impl Mlp {
    /// # Shapes
    /// - `x`, output: `[batch, seq, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        linear_rows(&self.mlp_out, gelu(linear_rows(&self.mlp_in, x)))
    }
}

/// A pre-LN block (Xiong et al. 2020): normalising before each sub-layer keeps training stable without warm-up
/// tricks at this depth.
#[derive(Module, Debug)]
pub struct Block {
    pub attention_norm: LayerNorm,
    pub attention: CausalSelfAttention,
    pub mlp_norm: LayerNorm,
    pub mlp: Mlp,
}

impl Block {
    /// `layer_norm_eps` is the LayerNorms' ε, which burn keeps private to the modules.
    ///
    /// # Shapes
    /// - `x`, output: `[batch, seq, d_model]`
    pub fn forward(&self, x: Tensor<3>, layer_norm_eps: f64) -> Tensor<3> {
        let x = x.clone() + self.attention.forward(layer_norm(&self.attention_norm, x, layer_norm_eps));
        x.clone() + self.mlp.forward(layer_norm(&self.mlp_norm, x, layer_norm_eps))
    }
}
