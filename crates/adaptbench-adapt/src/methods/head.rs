//! `head`: train the unembedding only (the 2-logit output layer) — the linear probe of the base's features.

use super::subset::parameter_subset_method;

/// Paths of the head's parameters: `d_model × 2` weights and 2 biases.
pub(crate) const HEAD_PATHS: [&str; 2] = ["head.weight", "head.bias"];

parameter_subset_method!(
    /// The `[methods.head]` table.
    HeadConfig,
    paths = Some(&HEAD_PATHS),
    lr = 1e-2,
    "Peak AdamW learning rate. Default: 1e-2 (a linear probe tolerates, and needs, larger steps)."
);
