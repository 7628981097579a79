//! Parameter bookkeeping by path: which parameters a method trains, and how many scalars that is.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Number of scalar parameters that require gradients in `module` (on an autodiff device): frozen bases
/// of LoRA-reparameterised weights do not count, their A and B factors do.
pub fn trainable_params<M: Module>(module: &M) -> usize {
    let mut count = TrainableCount(0);
    module.visit(&mut count);
    count.0
}

/// Every float parameter's path (e.g. `blocks.0.attention.q.weight`) with its shape, in visiting order.
pub fn parameter_paths<M: Module>(module: &M) -> Vec<(String, Vec<usize>)> {
    walk(module, false).into_iter().map(|found| (found.path, found.shape)).collect()
}

/// Every float parameter's path with its values, flattened, in visiting order (host copies: the models are
/// small, and this keeps interpolation and the model update simple).
pub fn parameter_values<M: Module>(module: &M) -> Vec<(String, Vec<f32>)> {
    walk(module, true).into_iter().map(|found| (found.path, found.values.expect("values were asked for"))).collect()
}

struct TrainableCount(usize);

impl ModuleVisitor for TrainableCount {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if param.base().is_require_grad() {
            self.0 += param.lazy_shape().num_elements();
        }
    }
}

/// One float parameter found by [`walk`].
struct Found {
    path: String,
    shape: Vec<usize>,
    values: Option<Vec<f32>>,
}

fn walk<M: Module>(module: &M, with_values: bool) -> Vec<Found> {
    let mut walker = PathWalker { stack: Vec::new(), with_values, found: Vec::new() };
    module.visit(&mut walker);
    walker.found
}

/// Tracks the module path the way burn's own reparameterisers do (`enter_module` names, joined by dots): the
/// one path-tracking visitor of the crate ([`crate::interpolate`]'s mapper rewrites by the same paths).
struct PathWalker {
    stack: Vec<String>,
    with_values: bool,
    found: Vec<Found>,
}

impl ModuleVisitor for PathWalker {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = self
            .with_values
            .then(|| param.val().into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 parameters"));
        self.found.push(Found { path: self.stack.join("."), shape: param.lazy_shape().dims::<D>().to_vec(), values });
    }
}
