//! WiSE-FT weight-space interpolation (Wortsman et al. 2022): θ(α) = (1 − α)·θ_base + α·θ_adapted, a pure
//! function over two models of the same structure, matched parameter by parameter through their paths.

use std::collections::HashMap;

use adaptbench_model::Transformer;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};

use crate::trainable::parameter_paths;

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
/// merged first, so that for LoRA α scales the merged delta: W + α·(α_lora/r)·B·A (DESIGN.md §5). The ends are
/// exact: α = 0 returns the base's tensors and α = 1 the adapted ones, bit for bit, and a parameter equal in
/// both models (frozen during adaptation) is kept as it is for every α.
pub fn interpolate(base: &Transformer, adapted: &Transformer, alpha: f64) -> Result<Transformer, InterpolationError> {
    if !(0.0..=1.0).contains(&alpha) {
        return Err(InterpolationError::Alpha(alpha));
    }
    check_same_structure(base, adapted)?;
    let mut collector = TensorCollector { stack: Vec::new(), tensors: HashMap::new() };
    adapted.visit(&mut collector);
    let mut lerp = Lerp { stack: Vec::new(), adapted: collector.tensors, alpha };
    Ok(base.clone().map(&mut lerp))
}

fn check_same_structure(base: &Transformer, adapted: &Transformer) -> Result<(), InterpolationError> {
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

/// The adapted model's values by path (host copies: the models are small, and this keeps the mapper simple).
struct TensorCollector {
    stack: Vec<String>,
    tensors: HashMap<String, TensorData>,
}

impl ModuleVisitor for TensorCollector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.tensors.insert(self.stack.join("."), param.val().into_data());
    }
}

struct Lerp {
    stack: Vec<String>,
    adapted: HashMap<String, TensorData>,
    alpha: f64,
}

impl ModuleMapper for Lerp {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.stack.join(".");
        let adapted = self.adapted.remove(&path).expect("structures were checked to match");
        let alpha = self.alpha;
        param.map(|base| {
            let base_data = base.to_data();
            if alpha == 0.0 || base_data == adapted {
                base
            } else {
                let adapted = Tensor::<D>::from_data(adapted, &base.device());
                if alpha == 1.0 {
                    adapted
                } else {
                    base.mul_scalar(1.0 - alpha) + adapted.mul_scalar(alpha)
                }
            }
        })
    }
}
