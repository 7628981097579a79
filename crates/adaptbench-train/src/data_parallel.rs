//! In-process data parallelism for one training step: the batch is cut into [`SHARDS`] contiguous shards, each
//! runs forward and backward on its own replica of the model (at the same time when the rayon pool has the
//! threads), and the shards' gradients are summed in shard order. The shard count is fixed rather than taken
//! from the pool, so a step gives the same numbers on any number of threads (and `--jobs`, which splits the
//! threads between cells, changes nothing).
//!
//! A replica shares the model's parameter values and ids but holds them as fresh autodiff leaves: burn keeps
//! graphs that share a node under one lock, so shards on the model's own leaves would run their backward
//! passes one after the other.

use adaptbench_model::Network;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use rayon::prelude::*;

use crate::batch::Batch;
use crate::loss::next_bit_loss_nats;

/// Shards per step: one per core of the 2-core machines this project is sized for. More threads still help
/// inside each shard (gemm, the fused kernels) and across cells (`--jobs`).
pub const SHARDS: usize = 2;

/// The batch's mean next-bit loss in nats, `L = Σ_s (n_s/n)·L_s`, and the gradients of `L` for every
/// trainable parameter, from `min(SHARDS, batch)` shards.
pub fn loss_and_gradients(model: &Network, batch: Batch) -> (f64, GradientsParams) {
    let [rows, _] = batch.inputs.dims();
    let shards = SHARDS.min(rows).max(1);
    if shards == 1 {
        let loss = next_bit_loss_nats(model.forward(batch.inputs), batch.targets);
        let value = loss.clone().into_scalar::<f32>() as f64;
        return (value, GradientsParams::from_grads(loss.backward(), model));
    }
    let bounds: Vec<(usize, usize)> = (0..shards).map(|s| (s * rows / shards, (s + 1) * rows / shards)).collect();
    let mut results: Vec<(f64, GradientsParams)> = bounds
        .into_par_iter()
        .map(|(start, end)| {
            let replica = model.clone().map(&mut FreshLeaves);
            let inputs = batch.inputs.clone().narrow(0, start, end - start);
            let targets = batch.targets.clone().narrow(0, start, end - start);
            let loss = next_bit_loss_nats(replica.forward(inputs), targets).mul_scalar((end - start) as f64 / rows as f64);
            let value = loss.clone().into_scalar::<f32>() as f64;
            (value, GradientsParams::from_grads(loss.backward(), &replica))
        })
        .collect();
    let (mut loss, mut grads) = results.remove(0);
    for (shard_loss, mut shard_grads) in results {
        loss += shard_loss;
        model.visit(&mut AddGradients { into: &mut grads, from: &mut shard_grads });
    }
    (loss, grads)
}

/// Replaces every float parameter by a fresh leaf with the same value, id and gradient requirement.
struct FreshLeaves;

impl ModuleMapper for FreshLeaves {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let tracked = tensor.is_require_grad();
        Param::from_mapped_value(id, tensor.detach().set_require_grad(tracked), mapper)
    }
}

/// `into[p] += from[p]` for every parameter `p` that has a gradient in `from`.
struct AddGradients<'a> {
    into: &'a mut GradientsParams,
    from: &'a mut GradientsParams,
}

impl ModuleVisitor for AddGradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(addend) = self.from.remove::<D>(param.id) {
            let sum = match self.into.remove::<D>(param.id) {
                Some(total) => total + addend,
                None => addend,
            };
            self.into.register(param.id, sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use adaptbench_model::ModelConfig;
    use adaptbench_sources::{rng, SourceSpec};
    use burn::module::ParamId;
    use burn::tensor::Device;

    use super::*;
    use crate::batch::sample_sequences;

    fn setup() -> (Network, Vec<Vec<u8>>, Device) {
        setup_model(ModelConfig { d_model: 16, n_layers: 2, n_heads: 2, context: 12, ..Default::default() })
    }

    fn setup_model(config: ModelConfig) -> (Network, Vec<Vec<u8>>, Device) {
        let device = Device::flex().autodiff();
        let source = SourceSpec::Mix { thetas: vec![0.2, 0.7], weights: vec![0.5, 0.5] }.build().unwrap();
        (config.init_seeded(&device, 3), sample_sequences(source.as_ref(), &mut rng(4), 7, 12), device)
    }

    /// Every parameter's gradient, flattened, in visiting order.
    fn flat(model: &Network, grads: &GradientsParams) -> Vec<Vec<f32>> {
        struct Collect<'a>(&'a GradientsParams, Vec<(ParamId, Vec<f32>)>);
        impl ModuleVisitor for Collect<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let grad = self.0.get::<D>(param.id).expect("every parameter is trainable here");
                self.1.push((param.id, grad.into_data().try_to_vec::<f32>().unwrap()));
            }
        }
        let mut collect = Collect(grads, Vec::new());
        model.visit(&mut collect);
        collect.1.into_iter().map(|(_, g)| g).collect()
    }

    #[test]
    fn the_sharded_loss_and_gradient_equal_the_whole_batch_ones() {
        let (model, data, device) = setup();
        let batch = Batch::new(&data, &device);
        let whole = next_bit_loss_nats(model.forward(batch.inputs.clone()), batch.targets.clone());
        let whole_loss = whole.clone().into_scalar::<f32>() as f64;
        let whole_grads = flat(&model, &GradientsParams::from_grads(whole.backward(), &model));
        // 7 rows: shards of 3 and 4, so the (n_s / n) weights matter.
        let (loss, grads) = loss_and_gradients(&model, batch);
        assert!((loss - whole_loss).abs() < 1e-6, "{loss} vs {whole_loss}");
        for (sharded, reference) in flat(&model, &grads).iter().zip(&whole_grads) {
            for (a, b) in sharded.iter().zip(reference) {
                assert!((a - b).abs() <= 1e-5 * b.abs().max(1e-2), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn a_step_gives_the_same_bits_on_one_and_on_three_threads() {
        let lstm = ModelConfig { arch: adaptbench_model::Arch::Lstm, d_model: 16, n_layers: 2, context: 12, ..Default::default() };
        for (model, data, device) in [setup(), setup_model(lstm)] {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| {
                    let (loss, grads) = loss_and_gradients(&model, Batch::new(&data, &device));
                    (loss, flat(&model, &grads))
                })
            };
            assert_eq!(run(1), run(3), "{:?}", model.arch());
        }
    }
}
