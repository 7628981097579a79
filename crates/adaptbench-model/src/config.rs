//! `ModelConfig`: the model's hyper-parameters as they appear in a TOML `[model]` table, validated at
//! load, and its `init` (the config → init pair of burn). `arch` picks the sequence model between the embeddings
//! and the final LayerNorm + head: pre-LN Transformer blocks or LSTM layers.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::{EmbeddingConfig, LayerNormConfig, LinearConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::attention::CausalSelfAttention;
use crate::block::{Block, Mlp};
use crate::error::ModelError;
use crate::lstm::LstmLayer;
use crate::seeded::with_device_seed;
use crate::tokens::VOCAB_SIZE;
use crate::network::Network;

/// How positions are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Positional {
    /// A trained `[context, d_model]` table (GPT-2 style).
    Learned,
    /// Fixed sine/cosine features (Vaswani et al. 2017, §3.5); no parameters.
    Sinusoidal,
}

/// The sequence model between the token embeddings and the final LayerNorm + head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Decoder-only pre-LN Transformer blocks with positions (DESIGN.md §4).
    Transformer,
    /// Stacked LSTM layers of width `d_model` (the paper's recurrent predictor); no positions, the recurrence
    /// carries order. `n_heads`, `mlp_ratio` and `positional` do not apply.
    Lstm,
}

impl Arch {
    fn is_transformer(&self) -> bool {
        *self == Self::Transformer
    }

    /// The name reports use, "Transformer" or "LSTM".
    pub fn label(self) -> &'static str {
        match self {
            Self::Transformer => "Transformer",
            Self::Lstm => "LSTM",
        }
    }
}

/// Hyper-parameters of the predictor: a decoder-only pre-LN Transformer (DESIGN.md §4) or an LSTM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// "transformer" or "lstm". Default: "transformer". Written only when it is "lstm", so that the resolved
    /// TOML of a Transformer, and every cache key and fingerprint made from it, is what it was before LSTMs.
    #[serde(skip_serializing_if = "Arch::is_transformer")]
    pub arch: Arch,
    /// Width of the embeddings and of the residual stream (Transformer) or hidden state (LSTM). Default: 64.
    pub d_model: usize,
    /// Number of Transformer blocks or stacked LSTM layers. Default: 2.
    pub n_layers: usize,
    /// Attention heads per block; must divide `d_model` (Transformer only). Default: 4.
    pub n_heads: usize,
    /// MLP width as a multiple of `d_model` (Transformer only). Default: 4.
    pub mlp_ratio: usize,
    /// Longest input the model accepts, in positions (BOS + prompt + task tokens). Default: 64.
    pub context: usize,
    /// Positional encoding (Transformer only). Default: "learned".
    pub positional: Positional,
    /// LayerNorm epsilon. Default: 1e-5 (PyTorch's).
    pub layer_norm_eps: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            arch: Arch::Transformer,
            d_model: 64,
            n_layers: 2,
            n_heads: 4,
            mlp_ratio: 4,
            context: 64,
            positional: Positional::Learned,
            layer_norm_eps: 1e-5,
        }
    }
}

impl ModelConfig {
    /// Checks every field; `table` is the TOML path of this table (e.g. `model`) and prefixes the key in errors.
    pub fn validate(&self, table: &str) -> Result<(), ModelError> {
        let invalid = |field: &str, value: String, allowed: &str| ModelError::InvalidConfig {
            key: format!("{table}.{field}"),
            value,
            allowed: allowed.to_string(),
        };
        for (field, value, max) in [
            ("d_model", self.d_model, 4096),
            ("n_layers", self.n_layers, 64),
            ("n_heads", self.n_heads, 64),
            ("mlp_ratio", self.mlp_ratio, 16),
            ("context", self.context, 65_536),
        ] {
            if value == 0 || value > max {
                return Err(invalid(field, value.to_string(), &format!("allowed range 1..={max}")));
            }
        }
        if self.arch == Arch::Lstm {
            // The Transformer's own keys must keep their defaults, so that a config never says more than it runs.
            let defaults = Self::default();
            for (field, set, default) in [
                ("n_heads", self.n_heads.to_string(), defaults.n_heads.to_string()),
                ("mlp_ratio", self.mlp_ratio.to_string(), defaults.mlp_ratio.to_string()),
                ("positional", format!("{:?}", self.positional).to_lowercase(), "learned".to_string()),
            ] {
                if set != default {
                    return Err(invalid(field, set, "applies to arch = \"transformer\" only; remove it for arch = \"lstm\""));
                }
            }
        }
        if self.arch == Arch::Transformer && !self.d_model.is_multiple_of(self.n_heads) {
            return Err(invalid(
                "n_heads",
                self.n_heads.to_string(),
                &format!("must divide model.d_model = {}", self.d_model),
            ));
        }
        if self.positional == Positional::Sinusoidal && !self.d_model.is_multiple_of(2) {
            return Err(invalid("d_model", self.d_model.to_string(), "must be even for sinusoidal positions"));
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps < 1.0) {
            return Err(invalid("layer_norm_eps", self.layer_norm_eps.to_string(), "allowed range (0, 1)"));
        }
        Ok(())
    }

    /// What reports call this network, e.g. "a 2-layer LSTM of width 64".
    pub fn describe(&self) -> String {
        format!("a {}-layer {} of width {}", self.n_layers, self.arch.label(), self.d_model)
    }

    /// Width of one attention head, `d_model / n_heads`.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.n_heads
    }

    /// Trainable parameters outside the token and position tables: per Transformer block `4·(d² + d)`
    /// (q, k, v, o) + `2·r·d² + r·d + d` (MLP) + `4·d` (two LayerNorms), or per LSTM layer `8·d² + 4·d`
    /// (W_ih, W_hh, b); then `2·d` (final LayerNorm) + `2·d + 2` (head).
    pub fn non_embedding_params(&self) -> usize {
        let d = self.d_model;
        let r = self.mlp_ratio;
        let per_layer = match self.arch {
            Arch::Transformer => 4 * (d * d + d) + (2 * r * d * d + r * d + d) + 4 * d,
            Arch::Lstm => 8 * d * d + 4 * d,
        };
        self.n_layers * per_layer + 2 * d + (2 * d + 2)
    }

    /// All trainable parameters: `non_embedding_params + VOCAB·d` (+ `context·d` for learned positions).
    pub fn total_params(&self) -> usize {
        let positions = match (self.arch, self.positional) {
            (Arch::Transformer, Positional::Learned) => self.context * self.d_model,
            _ => 0,
        };
        self.non_embedding_params() + VOCAB_SIZE * self.d_model + positions
    }

    /// Forward FLOPs per token at sequence length `seq_len`, the usual estimate
    /// `2·N_non-embedding + 2·n_layers·seq_len·d_model` (Kaplan et al. 2020, Table 1; the attention term
    /// counts QKᵀ and AV over the full context, so it overstates causal work by about 2×); an LSTM has no
    /// attention term, `2·N_non-embedding`.
    pub fn forward_flops_per_token(&self, seq_len: usize) -> f64 {
        let attention = match self.arch {
            Arch::Transformer => 2.0 * (self.n_layers * seq_len * self.d_model) as f64,
            Arch::Lstm => 0.0,
        };
        2.0 * self.non_embedding_params() as f64 + attention
    }

    /// Builds a model initialised from `seed`: the same seed gives the same weights, whatever else runs.
    ///
    /// burn draws initial weights from one process-wide generator shared by every thread: see
    /// [`with_device_seed`].
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Network {
        with_device_seed(device, seed, || {
            let model = self.init(device);
            // burn initialises parameters lazily, at their first use: force every draw now, under the lock.
            model.visit(&mut Materialize);
            model
        })
    }

    /// Builds a freshly initialised model on `device` (PyTorch-equivalent inits: Kaiming-uniform linears,
    /// U(−1/√d, 1/√d) LSTM weights, N(0, 1) embeddings, LayerNorm γ = 1, β = 0), drawing from the device's generator as it stands; use
    /// [`ModelConfig::init_seeded`] for reproducible weights.
    pub fn init(&self, device: &Device) -> Network {
        let d = self.d_model;
        let linear = |d_in: usize, d_out: usize| LinearConfig::new(d_in, d_out).init(device);
        let norm = || LayerNormConfig::new(d).with_epsilon(self.layer_norm_eps).init(device);
        let transformer_layers = if self.arch == Arch::Transformer { self.n_layers } else { 0 };
        let lstm_layers = if self.arch == Arch::Lstm { self.n_layers } else { 0 };
        let blocks = (0..transformer_layers)
            .map(|_| Block {
                attention_norm: norm(),
                attention: CausalSelfAttention {
                    q: linear(d, d),
                    k: linear(d, d),
                    v: linear(d, d),
                    o: linear(d, d),
                    n_heads: self.n_heads,
                },
                mlp_norm: norm(),
                mlp: Mlp { mlp_in: linear(d, self.mlp_ratio * d), mlp_out: linear(self.mlp_ratio * d, d) },
            })
            .collect();
        let position_embedding = match (self.arch, self.positional) {
            (Arch::Transformer, Positional::Learned) => Some(EmbeddingConfig::new(self.context, d).init(device)),
            _ => None,
        };
        Network {
            token_embedding: EmbeddingConfig::new(VOCAB_SIZE, d).init(device),
            position_embedding,
            blocks,
            lstm: (0..lstm_layers).map(|_| LstmLayer::new(d, device)).collect(),
            final_norm: norm(),
            head: linear(d, 2),
            prompt: None,
            intervention: None,
            d_model: d,
            context: self.context,
            layer_norm_eps: self.layer_norm_eps,
        }
    }
}

/// Touches every parameter so that burn's lazy initialisation runs.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        param.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quickstart_sized_model_has_the_hand_counted_parameters() {
        // d = 64, 2 layers, r = 4, learned positions over 64 slots:
        // per block: attention 4·(64·64 + 64) = 16 640; MLP 64·256 + 256 + 256·64 + 64 = 33 088;
        // norms 4·64 = 256 → 49 984. Two blocks 99 968, final norm 128, head 64·2 + 2 = 130 → 100 226.
        // Embeddings: tokens 3·64 = 192, positions 64·64 = 4 096 → 104 514 in all.
        let config = ModelConfig::default();
        assert_eq!(config.non_embedding_params(), 100_226);
        assert_eq!(config.total_params(), 104_514);
    }

    #[test]
    fn an_lstm_has_the_hand_counted_parameters() {
        // d = 64, 2 layers: per layer W_ih 64·256 + W_hh 64·256 + b 256 = 33 024 → 66 048; final norm 128,
        // head 130 → 66 306; token embeddings 3·64 = 192 and no positions → 66 498.
        let config = ModelConfig { arch: Arch::Lstm, ..Default::default() };
        assert_eq!(config.non_embedding_params(), 66_306);
        assert_eq!(config.total_params(), 66_498);
        let model = config.init_seeded(&Device::flex(), 0);
        assert_eq!(model.num_params(), 66_498);
        assert!(model.blocks.is_empty() && model.position_embedding.is_none());
    }

    #[test]
    fn transformer_keys_are_rejected_for_an_lstm_with_the_key() {
        let config = ModelConfig { arch: Arch::Lstm, n_heads: 2, ..Default::default() };
        let message = config.validate("model").unwrap_err().to_string();
        assert!(message.contains("model.n_heads = 2") && message.contains("arch = \"transformer\" only"), "{message}");
        let config = ModelConfig { arch: Arch::Lstm, positional: Positional::Sinusoidal, ..Default::default() };
        assert!(config.validate("model").unwrap_err().to_string().contains("model.positional = sinusoidal"));
        assert!(ModelConfig { arch: Arch::Lstm, d_model: 30, ..Default::default() }.validate("model").is_ok());
    }

    #[test]
    fn seeded_inits_are_reproducible_even_when_threads_init_at_once() {
        let config = ModelConfig { d_model: 8, n_heads: 2, context: 4, ..Default::default() };
        let weights = |seed: u64| -> Vec<f32> {
            let model = config.init_seeded(&Device::flex(), seed);
            model.head.weight.val().into_data().try_to_vec::<f32>().unwrap()
        };
        let sequential: Vec<_> = (0..4).map(weights).collect();
        assert_ne!(sequential[0], sequential[1], "different seeds, different weights");
        let concurrent: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4).map(|seed| scope.spawn(move || weights(seed))).collect();
            handles.into_iter().map(|handle| handle.join().unwrap()).collect()
        });
        assert_eq!(concurrent, sequential);
    }

    #[test]
    fn heads_that_do_not_divide_the_width_are_rejected_with_the_key() {
        let config = ModelConfig { n_heads: 5, ..Default::default() };
        let message = config.validate("model").unwrap_err().to_string();
        assert!(message.contains("model.n_heads = 5"), "{message}");
        assert!(message.contains("must divide"), "{message}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let error = toml::from_str::<ModelConfig>("d_model = 32\nwidth = 3").unwrap_err();
        assert!(error.to_string().contains("unknown field `width`"), "{error}");
    }
}
