//! The neural side of adaptbench: a small decoder-only, pre-LayerNorm Transformer over binary tokens
//! (DESIGN.md §4) or an LSTM (`[model] arch`), one [`Network`] type for both; its validated configuration, the
//! run-time choice of burn backend, and checkpoints that carry their resolved configuration.
//!
//! Sequence layout everywhere: `BOS, prompt (L tokens), task tokens (T)`. The model reads
//! `[BOS, x_1, …, x_{n-1}]` and predicts `[x_1, …, x_n]`, so position `t` holds P(x_{t+1} | BOS, x_≤t).

mod attention;
mod backend;
mod block;
mod checkpoint;
mod config;
mod error;
mod freeze;
pub mod fused;
mod intervention;
mod lstm;
mod prompt;
mod rows;
mod seeded;
mod tokens;
mod network;

pub use attention::CausalSelfAttention;
pub use backend::Backend;
pub use block::{Block, Mlp};
pub use checkpoint::{
    load_checkpoint, load_weights, save_checkpoint, save_weights, Checkpoint, CHECKPOINT_CONFIG_FILE, CHECKPOINT_WEIGHTS_FILE,
};
pub use config::{Arch, ModelConfig, Positional};
pub use error::ModelError;
pub use freeze::{engine_form, freeze};
pub use intervention::{orthonormal_rows, Intervention, InterventionPositions, LoReft};
pub use lstm::LstmLayer;
pub use prompt::{Prompt, PromptSpace};
pub use seeded::with_device_seed;
pub use tokens::{model_inputs, BOS, VOCAB_SIZE};
pub use network::Network;
