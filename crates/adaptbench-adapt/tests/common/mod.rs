//! Helpers shared by the integration tests.

use adaptbench_model::Transformer;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Every parameter's values, by path (a prompt's included): the tests' own visitor, independent of the
/// library's `parameter_values`, so that the invariants are not checked with the code they test.
pub fn weights(model: &Transformer) -> Vec<(String, Vec<f32>)> {
    struct Collect(Vec<String>, Vec<(String, Vec<f32>)>);
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.0.push(name.into());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.0.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.1.push((self.0.join("."), param.val().into_data().try_to_vec::<f32>().unwrap()));
        }
    }
    let mut collect = Collect(Vec::new(), Vec::new());
    model.visit(&mut collect);
    collect.1
}
