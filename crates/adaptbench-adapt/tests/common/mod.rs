//! Helpers shared by the integration tests (each test binary uses some of them).
#![allow(dead_code)]

use adaptbench_adapt::{Adapted, FinetuneConfig, MethodConfig, TaskData};
use adaptbench_model::{Network, ModelConfig};
use adaptbench_sources::SourceSpec;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};

/// d_model 16, 2 blocks of 2 heads, 16 positions.
pub fn small() -> ModelConfig {
    ModelConfig { d_model: 16, n_layers: 2, n_heads: 2, context: 16, ..Default::default() }
}

/// D_N: 16 sequences of 12 tokens from bern(0.9), no validation split.
pub fn task_data() -> TaskData {
    let source = SourceSpec::Bern { p: 0.9 }.build().unwrap();
    TaskData::draw(source.as_ref(), 5, 16, 12, 0.0)
}

/// `method` adapted to `base` on [`task_data`] with [`short_budget`], seed 3, prompts of at most 8 tokens.
pub fn adapt(method: &MethodConfig, base: &Network, device: &Device) -> Adapted {
    method.adapt(base, &task_data(), &short_budget(), 3, 8, device).unwrap()
}

/// 12 steps of 8 sequences.
pub fn short_budget() -> FinetuneConfig {
    FinetuneConfig { steps: 12, batch_size: 8, warmup_steps: 2, ..Default::default() }
}

/// `[BOS, x_1..x_7]` of two fixed sequences, `[2, 8]`.
pub fn inputs(device: &Device) -> Tensor<2, Int> {
    let ids: Vec<i64> = vec![2, 1, 1, 0, 1, 0, 1, 1, 2, 0, 0, 1, 1, 1, 0, 1];
    Tensor::<2, Int>::from_data(TensorData::new(ids, [2, 8]), device)
}

/// `model`'s logits on [`inputs`], flattened `[2, 8, 2]`.
pub fn outputs(model: &Network, device: &Device) -> Vec<f32> {
    model.forward(inputs(device)).into_data().try_to_vec::<f32>().unwrap()
}

/// Every parameter's values, by path (a prompt's included): the tests' own visitor, independent of the
/// library's `parameter_values`, so that the invariants are not checked with the code they test.
pub fn weights(model: &Network) -> Vec<(String, Vec<f32>)> {
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
