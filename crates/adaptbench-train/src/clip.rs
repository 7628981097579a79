//! Global gradient-norm clipping, as PyTorch's `clip_grad_norm_`: one norm over all parameters. (burn's
//! built-in `GradientClipping::Norm` clips each tensor by its own norm, which changes the update's direction.)

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// Scales all gradients by `min(1, max_norm / ‖g‖₂)`, where `‖g‖₂ = sqrt(Σ_params Σ g²)`.
/// Returns the norm before clipping.
pub fn clip_global_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut squares = SquaredNorm { grads, total: None };
    module.visit(&mut squares);
    let norm = squares.total.map_or(0.0, |t| t.into_scalar::<f32>() as f64).sqrt();
    if norm > max_norm {
        module.visit(&mut Scale { grads, factor: (max_norm / (norm + 1e-6)) as f32 });
    }
    norm
}

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let sum = grad.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + sum,
                None => sum,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f32,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad.mul_scalar(self.factor));
        }
    }
}
