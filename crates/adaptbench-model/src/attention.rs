//! Causal multi-head self-attention with separate q, k, v, o projections (named as HF PEFT's LoRA targets).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;

use crate::fused::causal_attention;
use crate::rows::linear_rows;

/// Causal multi-head self-attention, scale 1/√d_head. The heads stay side by side in the projections' last
/// axis: on the CPU backend one fused op attends all of them (forward and backward); elsewhere burn's
/// decomposition does ([`crate::fused::causal_attention`]).
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
        let context = causal_attention(linear_rows(&self.q, x.clone()), linear_rows(&self.k, x.clone()), linear_rows(&self.v, x), self.n_heads);
        linear_rows(&self.o, context)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::attention;
    use burn::tensor::ops::AttentionModuleOptions;
    use burn::tensor::{Device, Distribution, Tensor};

    use crate::fused::reference_attention;
    use crate::seeded::with_device_seed;

    #[test]
    fn the_reference_decomposition_equals_burns_fused_attention_kernel() {
        let device = Device::flex();
        let (batch, seq, heads, head_dim) = (3, 7, 2, 8);
        let [q, k, v] = with_device_seed(&device, 5, || {
            [0, 1, 2].map(|_| Tensor::<3>::random([batch, seq, heads * head_dim], Distribution::Normal(0.0, 1.0), &device))
        });
        let split_heads = |t: Tensor<3>| t.reshape([batch, seq, heads, head_dim]).swap_dims(1, 2);
        let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: true };
        let kernel: Vec<f32> = attention(split_heads(q.clone()), split_heads(k.clone()), split_heads(v.clone()), None, None, options)
            .swap_dims(1, 2)
            .reshape([batch, seq, heads * head_dim])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let reference: Vec<f32> = reference_attention(q, k, v, heads).into_data().try_to_vec::<f32>().unwrap();
        for (a, b) in kernel.iter().zip(&reference) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}
