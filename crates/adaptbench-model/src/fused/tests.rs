//! Every fused op against burn's reference decomposition on the flex backend: values, and the gradients of a
//! random linear functional of the output with respect to every input, to 1e-5 (the linear layer exactly).

use burn::nn::LayerNormConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::*;

const TOLERANCE: f32 = 1e-5;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn assert_close(what: &str, fused: &[f32], reference: &[f32]) {
    assert_eq!(fused.len(), reference.len(), "{what}: lengths");
    for (i, (a, b)) in fused.iter().zip(reference).enumerate() {
        let tolerance = TOLERANCE * b.abs().max(1.0);
        assert!((a - b).abs() <= tolerance, "{what}[{i}]: fused {a} vs reference {b}");
    }
}

/// Normal draws from a generator of the test's own (xorshift64*, Box–Muller): burn's device generator is
/// process-wide, and reseeding it here would race with other tests' seeded inits.
struct Draws(u64);

impl Draws {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn tensor<const D: usize>(&mut self, shape: [usize; D], std: f64, device: &Device) -> Tensor<D> {
        let count: usize = shape.iter().product();
        let values: Vec<f32> = (0..count)
            .map(|_| (std * (-2.0 * self.uniform().ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()) as f32)
            .collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }
}

/// `Σ out ⊙ w` for a fixed random `w`, so every output element gets a distinct upstream gradient.
fn functional<const D: usize>(out: Tensor<D>, weights: &Tensor<D>) -> Tensor<1> {
    (out * weights.clone()).sum()
}

#[test]
fn the_fused_gelu_equals_burns_gelu_in_value_and_gradient() {
    let device = Device::flex().autodiff();
    let mut draws = Draws::new(1);
    // Wide enough to reach erf's saturation (|x/√2| ≥ 3.83) on both sides.
    let x = draws.tensor([3, 7, 40], 3.0, &device).require_grad();
    let weights = draws.tensor([3, 7, 40], 1.0, &device);
    let fused = gelu(x.clone());
    let reference = reference_gelu(x.clone());
    assert_close("gelu", &values(fused.clone()), &values(reference.clone()));
    let fused_grad = x.grad(&functional(fused, &weights).backward()).unwrap();
    let reference_grad = x.grad(&functional(reference, &weights).backward()).unwrap();
    assert_close("d gelu", &values(fused_grad), &values(reference_grad));
}

#[test]
fn the_fused_layer_norm_equals_burns_in_value_and_every_gradient() {
    let device = Device::flex().autodiff();
    let mut draws = Draws::new(2);
    // Rows of whole chunks of 8 and rows with a shorter last chunk (20 = 2·8 + 4).
    for d in [24, 20] {
        let mut norm = LayerNormConfig::new(d).with_epsilon(1e-5).init(&device);
        // Non-trivial γ and β, so that their gradients and γ's part of dx are exercised.
        norm.gamma = norm.gamma.map(|g| { let noise = draws.tensor([d], 0.5, &g.device()); (g + noise).detach().require_grad() });
        norm.beta = norm.beta.map(|b| b.map(|b| { let noise = draws.tensor([d], 0.5, &b.device()); (b + noise).detach().require_grad() }));
        // Rows with an offset, so that the mean matters, and more rows than one parallel task holds.
        let x = (draws.tensor([5, 30, d], 2.0, &device) + 3.0).detach().require_grad();
        let weights = draws.tensor([5, 30, d], 1.0, &device);
        let fused = layer_norm(&norm, x.clone(), 1e-5);
        let reference = norm.forward(x.clone());
        assert_close(&format!("layer norm, d {d}"), &values(fused.clone()), &values(reference.clone()));
        let fused_grads = functional(fused, &weights).backward();
        let reference_grads = functional(reference, &weights).backward();
        assert_close(&format!("dx, d {d}"), &values(x.grad(&fused_grads).unwrap()), &values(x.grad(&reference_grads).unwrap()));
        let gamma = norm.gamma.val();
        assert_close(&format!("dγ, d {d}"), &values(gamma.grad(&fused_grads).unwrap()), &values(gamma.grad(&reference_grads).unwrap()));
        let beta = norm.beta.as_ref().unwrap().val();
        assert_close(&format!("dβ, d {d}"), &values(beta.grad(&fused_grads).unwrap()), &values(beta.grad(&reference_grads).unwrap()));
    }
}

#[test]
fn the_fused_attention_equals_burns_decomposition_in_value_and_every_gradient() {
    let device = Device::flex().autodiff();
    let mut draws = Draws::new(3);
    // Heads one at a time (2 of 8, 1 of 32, 1 of 128) and side by side in one or more groups of 64 columns
    // (4 and 8 of 16, 4 of 32, 16 of 4, 2 of 64); sequence lengths on and off the multiples of 4 and 8.
    let shapes = [(3, 9, 2, 8), (2, 17, 4, 16), (1, 1, 1, 4), (2, 8, 1, 32), (1, 13, 2, 64), (1, 5, 1, 128), (1, 11, 8, 16), (2, 10, 4, 32), (1, 7, 16, 4)];
    for (batch, seq, heads, head_dim) in shapes {
        let d = heads * head_dim;
        let [q, k, v] = [0, 1, 2].map(|_| draws.tensor([batch, seq, d], 1.0, &device).require_grad());
        let weights = draws.tensor([batch, seq, d], 1.0, &device);
        let fused = causal_attention(q.clone(), k.clone(), v.clone(), heads);
        let reference = reference_attention(q.clone(), k.clone(), v.clone(), heads);
        let case = format!("batch {batch}, seq {seq}, {heads} heads of {head_dim}");
        assert_close(&format!("attention, {case}"), &values(fused.clone()), &values(reference.clone()));
        let fused_grads = functional(fused, &weights).backward();
        let reference_grads = functional(reference, &weights).backward();
        for (name, input) in [("dq", &q), ("dk", &k), ("dv", &v)] {
            let fused_grad = values(input.grad(&fused_grads).unwrap());
            assert_close(&format!("{name}, {case}"), &fused_grad, &values(input.grad(&reference_grads).unwrap()));
        }
    }
}

#[test]
fn the_fused_attention_is_causal_and_equals_the_reference_without_autodiff() {
    let device = Device::flex();
    let mut draws = Draws::new(4);
    let [q, k, v] = [0, 1, 2].map(|_| draws.tensor([2, 6, 8], 1.0, &device));
    let fused = values(causal_attention(q.clone(), k.clone(), v.clone(), 2));
    assert_close("attention", &fused, &values(reference_attention(q.clone(), k.clone(), v.clone(), 2)));
    // Changing the last key and value leaves every earlier query's output bit for bit the same.
    let change = |t: Tensor<3>| t.slice_assign([0..2, 5..6, 0..8], Tensor::ones([2, 1, 8], &device));
    let changed = values(causal_attention(q, change(k), change(v), 2));
    for b in 0..2 {
        let earlier = b * 48..b * 48 + 40;
        assert_eq!(changed[earlier.clone()], fused[earlier], "sequence {b}");
    }
}

#[test]
fn the_fused_cross_entropy_equals_burns_in_value_and_gradient() {
    let device = Device::flex().autodiff();
    let mut draws = Draws::new(5);
    // Large logit gaps too: the overflow-free forms must hold where exp would overflow.
    let logits = (draws.tensor([4, 11, 2], 3.0, &device) * Tensor::from_data(TensorData::new(vec![1.0f32, 10.0], [1, 1, 2]), &device))
        .detach()
        .require_grad();
    let targets: Vec<i64> = (0..44).map(|i| (i * 7 % 3 == 0) as i64).collect();
    let targets = Tensor::<2, Int>::from_data(TensorData::new(targets, [4, 11]), &device);
    let fused = next_bit_cross_entropy(logits.clone(), targets.clone());
    let reference = reference_cross_entropy(logits.clone(), targets);
    assert_close("loss", &values(fused.clone()), &values(reference.clone()));
    let fused_grad = values(logits.grad(&(fused * 3.0).backward()).unwrap());
    assert_close("d logits", &fused_grad, &values(logits.grad(&(reference * 3.0).backward()).unwrap()));
}

#[test]
fn the_fused_kernels_do_not_depend_on_the_thread_count() {
    let device = Device::flex().autodiff();
    let mut draws = Draws::new(6);
    let mut norm = LayerNormConfig::new(16).init(&device);
    norm.gamma = norm.gamma.map(|g| { let noise = draws.tensor([16], 0.5, &g.device()); (g + noise).detach().require_grad() });
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut draws = Draws::new(7);
            let x = draws.tensor([8, 70, 16], 1.0, &device).require_grad();
            let y = gelu(causal_attention(x.clone(), x.clone(), x.clone(), 2));
            let loss = layer_norm(&norm, y, 1e-5).sum();
            let grads = loss.clone().backward();
            (values(loss), values(x.grad(&grads).unwrap()), values(norm.gamma.val().grad(&grads).unwrap()))
        })
    };
    assert_eq!(run(1), run(3));
}

/// Each kernel is compiled for several instruction sets (`multiversion.rs`) and must give the same bits on all
/// of them, or a result would depend on the machine: every level this CPU has, against the highest, through
/// GELU, LayerNorm and attention (heads one at a time and side by side) forward and backward.
#[test]
fn the_fused_kernels_agree_bit_for_bit_at_every_instruction_set_level() {
    use super::multiversion::test_cap::{with_level_cap, LOCK};
    use super::multiversion::{cpu_level, Level};
    let _guard = LOCK.lock().unwrap();
    let device = Device::flex().autodiff();
    let mut norm = LayerNormConfig::new(64).init(&device);
    norm.gamma = norm.gamma.map(|g| { let noise = Draws::new(8).tensor([64], 0.5, &g.device()); (g + noise).detach().require_grad() });
    let run = |level: Level| {
        with_level_cap(level, || {
            let mut draws = Draws::new(9);
            let mut outputs = Vec::new();
            for heads in [4, 1, 16] {
                let x = draws.tensor([3, 70, 64], 1.0, &device).require_grad();
                let y = gelu(causal_attention(x.clone(), x.clone() * 0.5, x.clone(), heads));
                let loss = (layer_norm(&norm, y, 1e-5) * draws.tensor([3, 70, 64], 1.0, &device)).sum();
                let grads = loss.clone().backward();
                outputs.push((values(loss), values(x.grad(&grads).unwrap()), values(norm.gamma.val().grad(&grads).unwrap())));
            }
            outputs
        })
    };
    let levels: Vec<Level> = Level::ALL.into_iter().filter(|&level| level <= cpu_level()).collect();
    if cfg!(target_arch = "x86_64") {
        assert!(levels.len() >= 2, "an x86-64 machine without AVX2 + FMA compares nothing here");
    }
    let highest = run(cpu_level());
    for level in levels {
        assert!(run(level) == highest, "{level:?} differs from {:?}", cpu_level());
    }
}

#[test]
fn other_backends_and_dtypes_take_the_reference_path() {
    assert!(is_fused(&Device::flex(), DType::F32));
    assert!(is_fused(&Device::flex().autodiff(), DType::F32));
    assert!(!is_fused(&Device::flex(), DType::F64));
}

/// The fused linear makes burn-flex's own gemm calls and reductions, so it is held to equality, not 1e-5:
/// values and the gradients of input, weight and bias, serial and parallel products (m·n·k below and above
/// burn-flex's 192³ threshold), a transposed (strided) input, with and without autodiff.
#[test]
fn the_fused_linear_equals_burns_linear_bit_for_bit() {
    use burn::module::Param;
    let mut draws = Draws::new(5);
    for device in [Device::flex().autodiff(), Device::flex()] {
        for (rows, d_in, d_out, transposed) in [(7, 5, 3, false), (2048, 64, 64, false), (96, 32, 48, true), (1, 1, 1, false)] {
            let layer = Linear {
                weight: Param::from_tensor(draws.tensor([d_in, d_out], 0.5, &device)),
                bias: Some(Param::from_tensor(draws.tensor([d_out], 0.5, &device))),
            };
            let x = if transposed { draws.tensor([d_in, rows], 1.0, &device).transpose() } else { draws.tensor([rows, d_in], 1.0, &device) };
            let x = if device.is_autodiff() { x.require_grad() } else { x };
            let case = format!("{rows}×{d_in} → {d_out}, transposed {transposed}, autodiff {}", device.is_autodiff());
            let fused = linear(&layer, x.clone());
            let reference = layer.forward(x.clone());
            assert_eq!(values(fused.clone()), values(reference.clone()), "values, {case}");
            if !device.is_autodiff() {
                continue;
            }
            let weights = draws.tensor([rows, d_out], 1.0, &device);
            let (fused_grads, reference_grads) = (functional(fused, &weights).backward(), functional(reference, &weights).backward());
            let bias = layer.bias.as_ref().unwrap().val();
            assert_eq!(values(x.grad(&fused_grads).unwrap()), values(x.grad(&reference_grads).unwrap()), "dx, {case}");
            let weight = layer.weight.val();
            assert_eq!(values(weight.grad(&fused_grads).unwrap()), values(weight.grad(&reference_grads).unwrap()), "dW, {case}");
            assert_eq!(values(bias.grad(&fused_grads).unwrap()), values(bias.grad(&reference_grads).unwrap()), "db, {case}");
        }
    }
}
