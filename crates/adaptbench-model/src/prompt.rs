//! Prompts as part of the model: k vectors inserted after BOS, so a prompted model has the same inputs and
//! outputs as the base (`[BOS, x_1, …, x_{n−1}]` → predictions of `[x_1, …, x_n]`) and every loss, evaluation
//! and fine-tuning loop works on it unchanged. A hard prompt is the frozen special case whose vectors are
//! token embeddings; soft prompts (Lester et al. 2021) train the vectors, or weights over the token embeddings.

use burn::module::{Module, Param};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

use crate::tokens::VOCAB_SIZE;

/// Where a prompt's trainable weights live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptSpace {
    /// `weights` are the k prompt vectors themselves, `[k, d_model]` (Lester-style soft prompt).
    Embeddings,
    /// `weights` `[k, 3]` mix the token embeddings: vector_i = Σ_v w_iv · E_v (a real-valued relaxation of a
    /// hard prompt over the token one-hot space).
    TokenWeights,
    /// As `TokenWeights` but on the simplex: vector_i = Σ_v softmax(w_i)_v · E_v (a convex mixture of tokens).
    TokenSimplex,
}

/// k prompt positions between BOS and the task tokens.
#[derive(Module, Debug)]
pub struct Prompt {
    /// `[k, d_model]` for [`PromptSpace::Embeddings`], `[k, 3]` otherwise.
    pub weights: Param<Tensor<2>>,
    #[module(skip)]
    pub space: PromptSpace,
}

impl Prompt {
    /// A hard prompt: one-hot weights over the token embeddings, frozen. Its vectors are the prompt tokens'
    /// embeddings bit for bit (a one-hot row times E adds exact zeros), and they follow the model's token
    /// embeddings, so the same prompt can be moved to another base.
    pub fn hard(bits: &[u8], device: &Device) -> Self {
        let one_hot: Vec<f32> = bits
            .iter()
            .flat_map(|&bit| (0..VOCAB_SIZE).map(move |v| if v == bit as usize { 1.0 } else { 0.0 }))
            .collect();
        let weights = Tensor::from_data(TensorData::new(one_hot, [bits.len(), VOCAB_SIZE]), device);
        Self { weights: Param::from_tensor(weights).set_require_grad(false), space: PromptSpace::TokenWeights }
    }

    /// A prompt over `space` with the given initial weights (trainable).
    pub fn new(weights: Tensor<2>, space: PromptSpace) -> Self {
        Self { weights: Param::from_tensor(weights), space }
    }

    /// Number of prompt positions k.
    pub fn len(&self) -> usize {
        self.weights.dims()[0]
    }

    /// Whether the prompt has no positions (the model then equals its base).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bits of a hard prompt: `Some` when every row of token weights is exactly one-hot on bit 0 or 1
    /// (then the vectors are those tokens' embeddings bit for bit), `None` otherwise.
    pub fn hard_bits(&self) -> Option<Vec<u8>> {
        if self.space != PromptSpace::TokenWeights {
            return None;
        }
        let weights = self.weights.val().into_data().convert::<f32>().try_to_vec::<f32>().ok()?;
        weights
            .chunks_exact(VOCAB_SIZE)
            .map(|row| {
                let bit = row.iter().position(|&w| w == 1.0).filter(|&bit| bit < 2)?;
                let one_hot = row.iter().enumerate().all(|(v, &w)| v == bit || w == 0.0);
                one_hot.then_some(bit as u8)
            })
            .collect()
    }

    /// The prompt vectors given the model's token embeddings.
    ///
    /// # Shapes
    /// - `token_embedding`: `[3, d_model]` → output `[k, d_model]`
    pub fn vectors(&self, token_embedding: Tensor<2>) -> Tensor<2> {
        match self.space {
            PromptSpace::Embeddings => self.weights.val(),
            PromptSpace::TokenWeights => self.weights.val().matmul(token_embedding),
            PromptSpace::TokenSimplex => softmax(self.weights.val(), 1).matmul(token_embedding),
        }
    }
}
