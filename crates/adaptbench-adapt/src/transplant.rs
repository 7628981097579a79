//! The model-update check of DESIGN.md §7: what an adaptation found on one base is worth on another base of
//! the same config pretrained with another seed. The prompt moves as it is, and a weight adaptation moves as
//! its task vector (Ilharco et al. 2023): θ = θ_other + (θ_adapted − θ_found_on).

use std::collections::HashMap;

use adaptbench_model::Network;

use crate::error::AdaptError;
use crate::interpolate::{check_same_structure, ByPath};
use crate::trainable::parameter_values;

/// `adapted` (found on `found_on`) moved to `other`: every weight becomes
/// `other + (adapted − found_on)` — exactly `other` where the adaptation left it unchanged (frozen weights, so
/// a prompt method or ReFT moves nothing but its prompt or intervention) — and the prompt or intervention, if
/// any, is carried over unchanged. A hard prompt is stored as token weights, so on the other base it reads that
/// base's token embeddings: the same tokens. A ReFT edit keeps its subspace, found in `found_on`'s residual
/// stream.
///
/// `adapted` must have `found_on`'s weights (LoRA merged first) and `other` the same structure.
pub fn transplant(
    found_on: &Network,
    adapted: &Network,
    other: &Network,
) -> Result<Network, AdaptError> {
    check_same_structure(found_on, other)?;
    let mut weights_only = adapted.clone();
    weights_only.prompt = None;
    weights_only.intervention = None;
    check_same_structure(found_on, &weights_only)?;
    let by_path = |model: &Network| -> HashMap<String, Vec<f32>> { parameter_values(model).into_iter().collect() };
    let (before, mut after) = (by_path(found_on), by_path(&weights_only));
    let mut moved = ByPath::apply(other.clone(), |path, target| {
        let (before, after) = (&before[path], after.remove(path).expect("structures were checked to match"));
        (before != &after).then(|| {
            target
                .iter()
                .zip(before.iter().zip(&after))
                .map(|(&t, (&b, &a))| (t as f64 + (a as f64 - b as f64)) as f32)
                .collect()
        })
    });
    moved.prompt = adapted.prompt.clone();
    moved.intervention = adapted.intervention.clone();
    Ok(moved)
}
