//! `embed`: train the token embedding only (3 × d_model: the vectors of 0, 1 and BOS); the input-side
//! counterpart of the head-only probe. Position embeddings stay frozen.

use super::subset::parameter_subset_method;

parameter_subset_method!(
    /// The `[methods.embed]` table.
    EmbedConfig,
    paths = Some(&["token_embedding.weight"]),
    lr = 1e-2,
    "Peak AdamW learning rate. Default: 1e-2."
);
