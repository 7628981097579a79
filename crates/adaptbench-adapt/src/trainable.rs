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
    let mut paths = PathCollector { stack: Vec::new(), found: Vec::new() };
    module.visit(&mut paths);
    paths.found
}

struct TrainableCount(usize);

impl ModuleVisitor for TrainableCount {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if param.base().is_require_grad() {
            self.0 += param.lazy_shape().num_elements();
        }
    }
}

/// Tracks the module path the way burn's own reparameterisers do (`enter_module` names, joined by dots).
pub(crate) struct PathCollector {
    pub stack: Vec<String>,
    pub found: Vec<(String, Vec<usize>)>,
}

impl ModuleVisitor for PathCollector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.found.push((self.stack.join("."), param.lazy_shape().dims::<D>().to_vec()));
    }
}
