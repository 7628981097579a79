//! `full`: fine-tune every weight of the base (all `total_params()` of them).

use super::subset::parameter_subset_method;

parameter_subset_method!(
    /// The `[methods.full]` table.
    FullConfig,
    paths = None,
    lr = 1e-3,
    "Peak AdamW learning rate. Default: 1e-3 (the pretraining peak)."
);
