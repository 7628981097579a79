//! WiSE-FT weight-space interpolation (Wortsman et al. 2022): θ(α) = (1 − α)·θ_base + α·θ_adapted, a pure
//! function over two models of the same structure, matched parameter by parameter through their paths.

use std::collections::HashMap;

use adaptbench_model::Network;
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Tensor, TensorData};

use crate::trainable::{parameter_paths, parameter_values};

/// Why two models cannot be interpolated.
#[derive(Debug, thiserror::Error)]
pub enum InterpolationError {
    #[error("α = {0} is outside [0, 1]")]
    Alpha(f64),
    #[error("parameter `{path}` is in the {present} model but not in the other")]
    MissingParameter { path: String, present: &'static str },
    #[error("parameter `{path}` has shape {base:?} in the base model but {adapted:?} in the adapted one")]
    ShapeMismatch { path: String, base: Vec<usize>, adapted: Vec<usize> },
}

/// θ(α) = (1 − α)·θ_base + α·θ_adapted for every parameter, on the base's device.
///
/// Both models must have the same parameters (paths and shapes); reparameterised models (LoRA) must be
/// merged first, so that for LoRA α scales the merged delta: W + α·(α_lora/r)·B·A (DESIGN.md §5). A ReFT
/// intervention is no weight delta: it is carried over with its edit scaled, h + α·Rᵀ(W h + b − R h), and
/// dropped at α = 0. The ends are exact: α = 0 returns the base's tensors and α = 1 the adapted ones, bit for
/// bit, and a parameter equal in both models (frozen during adaptation) is kept as it is for every α.
pub fn interpolate(base: &Network, adapted: &Network, alpha: f64) -> Result<Network, InterpolationError> {
    if !(0.0..=1.0).contains(&alpha) {
        return Err(InterpolationError::Alpha(alpha));
    }
    let mut weights = adapted.clone();
    let intervention = weights.intervention.take().filter(|_| alpha > 0.0).map(|edit| edit.scaled(alpha));
    check_same_structure(base, &weights)?;
    let mut adapted: HashMap<String, Vec<f32>> = parameter_values(&weights).into_iter().collect();
    let mut interpolated = ByPath::apply(base.clone(), |path, base| {
        let adapted = adapted.remove(path).expect("structures were checked to match");
        if alpha == 0.0 || base == adapted.as_slice() {
            None
        } else if alpha == 1.0 {
            Some(adapted)
        } else {
            Some(
                base.iter()
                    .zip(&adapted)
                    .map(|(&b, &a)| ((1.0 - alpha) * b as f64 + alpha * a as f64) as f32)
                    .collect(),
            )
        }
    });
    interpolated.intervention = intervention;
    Ok(interpolated)
}

pub(crate) fn check_same_structure(base: &Network, adapted: &Network) -> Result<(), InterpolationError> {
    let base_paths: HashMap<String, Vec<usize>> = parameter_paths(base).into_iter().collect();
    let adapted_paths: HashMap<String, Vec<usize>> = parameter_paths(adapted).into_iter().collect();
    for (path, base_shape) in &base_paths {
        match adapted_paths.get(path) {
            None => return Err(InterpolationError::MissingParameter { path: path.clone(), present: "base" }),
            Some(shape) if shape != base_shape => {
                return Err(InterpolationError::ShapeMismatch {
                    path: path.clone(),
                    base: base_shape.clone(),
                    adapted: shape.clone(),
                })
            }
            Some(_) => {}
        }
    }
    if let Some(path) = adapted_paths.keys().find(|path| !base_paths.contains_key(*path)) {
        return Err(InterpolationError::MissingParameter { path: path.clone(), present: "adapted" });
    }
    Ok(())
}

/// Rewrites every parameter as `update(path, its flattened values)`; `None` keeps the tensor untouched (and so
/// bit for bit).
pub(crate) struct ByPath<F> {
    stack: Vec<String>,
    update: F,
}

impl<F: FnMut(&str, &[f32]) -> Option<Vec<f32>>> ByPath<F> {
    /// `model` with every parameter rewritten by `update`.
    pub(crate) fn apply(model: Network, update: F) -> Network {
        model.map(&mut Self { stack: Vec::new(), update })
    }
}

impl<F: FnMut(&str, &[f32]) -> Option<Vec<f32>>> ModuleMapper for ByPath<F> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.stack.join(".");
        param.map(|tensor| {
            let values = tensor.to_data().convert::<f32>().try_to_vec::<f32>().expect("f32 parameters");
            match (self.update)(&path, &values) {
                None => tensor,
                Some(updated) => Tensor::from_data(TensorData::new(updated, tensor.shape()), &tensor.device()),
            }
        })
    }
}
