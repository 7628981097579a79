//! The neural predictor: token (and, for the Transformer, position) embeddings, a sequence model (pre-LN
//! Transformer blocks or LSTM layers), final LayerNorm, a 2-logit head. `forward(tokens)` is a thin layer over
//! `forward_embeddings(embeds)` so that soft prompts can prepend embedding vectors and hard prompts prepend tokens
//! through one model; a model carrying a [`Prompt`] inserts its vectors after BOS itself, so a prompted model keeps
//! the base's inputs and outputs; a model carrying an [`Intervention`] (ReFT) edits its residual stream after the
//! chosen blocks (an LSTM's: the chosen layers' outputs).

use burn::module::Module;
use burn::nn::{Embedding, LayerNorm, Linear};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::block::Block;
use crate::config::Arch;
use crate::fused::layer_norm;
use crate::intervention::Intervention;
use crate::lstm::LstmLayer;
use crate::prompt::Prompt;
use crate::rows::linear_rows;

/// A causal predictor of the next bit over {0, 1, BOS}: a decoder-only pre-LN Transformer or an LSTM. The two
/// share everything but the sequence model, so head, embedding, prompt and ReFT methods mean the same on both.
#[derive(Module, Debug)]
pub struct Network {
    pub token_embedding: Embedding,
    /// `None` for sinusoidal positions (no parameters) and for the LSTM (no positions).
    pub position_embedding: Option<Embedding>,
    /// The Transformer's blocks (empty for an LSTM).
    pub blocks: Vec<Block>,
    /// The LSTM's layers (empty for a Transformer).
    pub lstm: Vec<LstmLayer>,
    pub final_norm: LayerNorm,
    pub head: Linear,
    /// Prompt vectors inserted after BOS (`None` for the base and every weight method).
    pub prompt: Option<Prompt>,
    /// LoReFT edits of the residual stream (`None` for the base and every other method).
    pub intervention: Option<Intervention>,
    pub d_model: usize,
    pub context: usize,
    /// The LayerNorms' epsilon (burn keeps it private to the modules; the inference export needs it).
    pub layer_norm_eps: f64,
}

impl Network {
    /// Next-bit logits for token ids.
    ///
    /// # Shapes
    /// - `tokens`: `[batch, seq]`, ids in {0, 1, BOS}, `seq ≤ context`
    /// - output: `[batch, seq, 2]`, logits of x_{t+1} ∈ {0, 1} at each position t
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        self.forward_embeddings(self.embed_tokens(tokens))
    }

    /// Token embeddings without positions, the space soft prompts live in.
    ///
    /// # Shapes
    /// - `tokens`: `[batch, seq]` → output `[batch, seq, d_model]`
    pub fn embed_tokens(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        self.token_embedding.forward(tokens)
    }

    /// Next-bit logits for a sequence of input embeddings (positions are added here). With a prompt of k
    /// vectors, they are inserted after the first input (BOS) and their k outputs dropped, so that output t
    /// still predicts input t + 1: the model reads `BOS, prompt, x_1, …` and is scored on task tokens only.
    ///
    /// # Shapes
    /// - `embeds`: `[batch, seq, d_model]`, `seq + k ≤ context`
    /// - output: `[batch, seq, 2]`
    pub fn forward_embeddings(&self, embeds: Tensor<3>) -> Tensor<3> {
        let [batch, seq, d_model] = embeds.dims();
        let (embeds, k) = match &self.prompt {
            Some(prompt) => {
                let k = prompt.len();
                let vectors = prompt.vectors(self.token_embedding.weight.val()); // [k, d_model]
                let vectors = vectors.unsqueeze_dim::<3>(0).expand([batch, k, d_model]);
                let bos = embeds.clone().slice([0..batch, 0..1, 0..d_model]);
                let rest = embeds.slice([0..batch, 1..seq, 0..d_model]);
                (Tensor::cat(vec![bos, vectors, rest], 1), k) // [batch, seq + k, d_model]
            }
            None => (embeds, 0),
        };
        let total = seq + k;
        assert!(total <= self.context, "input of {total} positions exceeds the model context of {}", self.context);
        let mut x = match self.arch() {
            Arch::Transformer => {
                let positions = self.positions(total, &embeds.device()).reshape([1, total, d_model]);
                embeds + positions // [batch, total, d_model]
            }
            Arch::Lstm => embeds,
        };
        let layers = self.blocks.iter().map(Layer::Block).chain(self.lstm.iter().map(Layer::Lstm));
        for (index, layer) in layers.enumerate() {
            x = match layer {
                Layer::Block(block) => block.forward(x, self.layer_norm_eps),
                Layer::Lstm(lstm) => lstm.forward(x),
            };
            if let Some(intervention) = &self.intervention {
                x = intervention.apply(index, x);
            }
        }
        let logits = linear_rows(&self.head, layer_norm(&self.final_norm, x, self.layer_norm_eps)); // [batch, total, 2]
        if k == 0 {
            logits
        } else {
            logits.slice([0..batch, k..total, 0..2]) // [batch, seq, 2]
        }
    }

    /// Which sequence model this is.
    pub fn arch(&self) -> Arch {
        if self.lstm.is_empty() {
            Arch::Transformer
        } else {
            Arch::Lstm
        }
    }

    /// Number of Transformer blocks or LSTM layers, the sites ReFT and LoRA index.
    pub fn n_layers(&self) -> usize {
        self.blocks.len() + self.lstm.len()
    }

    /// Log-probabilities of the next bit, `log_softmax(forward(tokens))`.
    ///
    /// # Shapes
    /// - `tokens`: `[batch, seq]` → output `[batch, seq, 2]`
    pub fn log_probs(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        log_softmax(self.forward(tokens), 2)
    }

    /// Position encodings for the first `seq` positions, `[seq, d_model]`.
    fn positions(&self, seq: usize, device: &Device) -> Tensor<2> {
        match &self.position_embedding {
            Some(table) => table.weight.val().slice([0..seq, 0..self.d_model]),
            None => Tensor::from_data(TensorData::new(sinusoidal_table(seq, self.d_model), [seq, self.d_model]), device),
        }
    }
}

/// One layer of either sequence model, in order.
enum Layer<'a> {
    Block(&'a Block),
    Lstm(&'a LstmLayer),
}

/// The fixed encodings of Vaswani et al. (2017, §3.5): PE(t, 2i) = sin(t / 10000^{2i/d}),
/// PE(t, 2i+1) = cos(t / 10000^{2i/d}), row-major `[seq, d]`.
pub(crate) fn sinusoidal_table(seq: usize, d: usize) -> Vec<f32> {
    let mut table = Vec::with_capacity(seq * d);
    for t in 0..seq {
        for j in 0..d {
            let frequency = 10_000f64.powf(-((j / 2 * 2) as f64) / d as f64);
            let angle = t as f64 * frequency;
            table.push(if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Positional, ModelConfig};

    fn tokens(rows: &[&[i64]], device: &Device) -> Tensor<2, Int> {
        let (batch, seq) = (rows.len(), rows[0].len());
        let flat: Vec<i64> = rows.iter().flat_map(|row| row.iter().copied()).collect();
        Tensor::from_data(TensorData::new(flat, [batch, seq]), device)
    }

    fn logits(model: &Network, rows: &[&[i64]], device: &Device) -> Vec<f32> {
        model.forward(tokens(rows, device)).into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn changing_a_later_token_never_changes_an_earlier_prediction() {
        // Both attention paths: the fused kernel (inference) and the differentiable one (autodiff).
        let transformer = |positional| ModelConfig { d_model: 16, n_heads: 2, context: 12, positional, ..Default::default() };
        let lstm = ModelConfig { arch: Arch::Lstm, d_model: 16, context: 12, ..Default::default() };
        let cases = [transformer(Positional::Learned), transformer(Positional::Sinusoidal), lstm]
            .into_iter()
            .flat_map(|config| [(config.clone(), Device::flex()), (config, Device::flex().autodiff())]);
        for (config, device) in cases {
            let positional = (config.arch, config.positional);
            let model = config.init_seeded(&device, 7);
            let base: Vec<i64> = vec![2, 1, 0, 1, 1, 0, 0, 1, 0, 1];
            let reference = logits(&model, &[&base], &device);
            for changed_at in 1..base.len() {
                let mut altered = base.clone();
                altered[changed_at] = 1 - altered[changed_at];
                let after = logits(&model, &[&altered], &device);
                // Positions before `changed_at` (2 logits each) must be bit-identical.
                assert_eq!(&after[..2 * changed_at], &reference[..2 * changed_at], "{positional:?}, change at {changed_at}");
                assert_ne!(after[2 * changed_at..], reference[2 * changed_at..], "the change must be visible later");
            }
        }
    }

    #[test]
    fn forward_is_forward_embeddings_of_the_token_embeddings() {
        let device = Device::flex();
        let model = ModelConfig { d_model: 16, n_heads: 2, context: 8, ..Default::default() }.init_seeded(&device, 3);
        let ids = tokens(&[&[2, 0, 1, 1], &[2, 1, 1, 0]], &device);
        let direct: Vec<f32> = model.forward(ids.clone()).into_data().try_to_vec::<f32>().unwrap();
        let through: Vec<f32> = model.forward_embeddings(model.embed_tokens(ids)).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(direct, through);
    }

    #[test]
    fn sinusoidal_table_starts_with_sin_zero_and_cos_zero() {
        // t = 0: sin 0 = 0, cos 0 = 1; t = 1, j = 0: sin(1).
        let table = sinusoidal_table(2, 4);
        assert_eq!(&table[..4], &[0.0, 1.0, 0.0, 1.0]);
        assert!((table[4] - 1f32.sin()).abs() < 1e-7);
    }

    #[test]
    fn log_probs_of_both_bits_sum_to_one() {
        let device = Device::flex();
        let model = ModelConfig { d_model: 16, n_heads: 2, context: 8, ..Default::default() }.init_seeded(&device, 1);
        let lp: Vec<f32> = model.log_probs(tokens(&[&[2, 0, 1]], &device)).into_data().try_to_vec::<f32>().unwrap();
        for pair in lp.chunks(2) {
            assert!((pair[0].exp() + pair[1].exp() - 1.0).abs() < 1e-6);
        }
    }
}
