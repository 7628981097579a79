//! One pre-LayerNorm Transformer block: `x + attn(LN(x))`, then `x + mlp(LN(x))`.

use burn::module::Module;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::activation::gelu;
use burn::tensor::Tensor;

use crate::attention::CausalSelfAttention;

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
        self.mlp_out.forward(gelu(self.mlp_in.forward(x)))
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
    /// # Shapes
    /// - `x`, output: `[batch, seq, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = x.clone() + self.attention.forward(self.attention_norm.forward(x));
        x.clone() + self.mlp.forward(self.mlp_norm.forward(x))
    }
}
