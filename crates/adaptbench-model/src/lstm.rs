//! One LSTM layer (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000) in PyTorch's
//! `nn.LSTM` formulation, with the gate blocks in the order i, f, o, g:
//!
//! [i, f, o, g] = x_t·W_ih + h_{t−1}·W_hh + b,
//! c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(c_t),   h_0 = c_0 = 0.
//!
//! burn-nn's `Lstm` keeps a `Linear` pair per gate and runs eight small matmuls per step; here the input
//! projection of every step is one `[batch·seq, d]·[d, 4d]` matmul before the recurrence, and each step adds a
//! single `[batch, d]·[d, 4d]` matmul. The two projections are PyTorch's `weight_ih` and `weight_hh`, so LoRA
//! targets them by those names (`ih`, `hh`).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use crate::rows::linear_rows;

/// An LSTM layer of width `d` (input and hidden), PyTorch's `nn.LSTM(d, d)` with its two biases folded into one.
#[derive(Module, Debug)]
pub struct LstmLayer {
    /// `W_ih` `[d, 4d]` and the bias `b` `[4d]` (PyTorch's `b_ih + b_hh`): the gates' input projection.
    pub ih: Linear,
    /// `W_hh` `[d, 4d]`, no bias: the gates' recurrent projection.
    pub hh: Linear,
}

impl LstmLayer {
    /// A layer of width `d` with PyTorch's initialisation, U(−1/√d, 1/√d) for every weight and bias (burn's
    /// default `Linear` init has the same bound, `1/√d_in`).
    pub fn new(d: usize, device: &Device) -> Self {
        Self {
            ih: LinearConfig::new(d, 4 * d).init(device),
            hh: LinearConfig::new(d, 4 * d).with_bias(false).init(device),
        }
    }

    /// Hidden states `h_1..h_seq` of the sequence `x`, starting from `h_0 = c_0 = 0`.
    ///
    /// # Shapes
    /// - `x`, output: `[batch, seq, d]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, seq, d] = x.dims();
        let projected = linear_rows(&self.ih, x); // [batch, seq, 4d]
        let mut outputs = Vec::with_capacity(seq);
        let mut state: Option<(Tensor<2>, Tensor<2>)> = None; // (h, c); None is h = c = 0
        for t in 0..seq {
            let from_input = projected.clone().slice([0..batch, t..t + 1, 0..4 * d]).reshape([batch, 4 * d]);
            // At t = 0, h = 0 contributes nothing: skipping its matmul is exact.
            let gates = match &state {
                Some((h, _)) => from_input + self.hh.forward(h.clone()),
                None => from_input,
            };
            let sigmoids = sigmoid(gates.clone().slice([0..batch, 0..3 * d])); // [batch, 3d]: i, f, o
            let candidate = tanh(gates.slice([0..batch, 3 * d..4 * d])); // g
            let gate = |k: usize| sigmoids.clone().slice([0..batch, k * d..(k + 1) * d]);
            let written = gate(0) * candidate;
            let cell = match state {
                Some((_, c)) => gate(1) * c + written,
                None => written,
            };
            let hidden = gate(2) * tanh(cell.clone());
            outputs.push(hidden.clone());
            state = Some((hidden, cell));
        }
        Tensor::stack(outputs, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn forward_matches_the_scalar_recurrence() {
        // The textbook recurrence, one unit at a time in f64, against the batched burn forward.
        let device = Device::flex();
        let (batch, seq, d) = (2, 5, 3);
        let layer = LstmLayer::new(d, &device);
        let x = Tensor::<3>::random([batch, seq, d], Distribution::Normal(0.0, 1.0), &device);
        let got = values(layer.forward(x.clone()));
        let (w_ih, b, w_hh) = (values(layer.ih.weight.val()), values(layer.ih.bias.clone().unwrap().val()), values(layer.hh.weight.val()));
        let x = values(x);
        let sigma = |v: f64| 1.0 / (1.0 + (-v).exp());
        for s in 0..batch {
            let (mut h, mut c) = (vec![0.0f64; d], vec![0.0f64; d]);
            for t in 0..seq {
                let input = &x[(s * seq + t) * d..(s * seq + t + 1) * d];
                let pre: Vec<f64> = (0..4 * d)
                    .map(|o| {
                        b[o] as f64
                            + (0..d).map(|k| input[k] as f64 * w_ih[k * 4 * d + o] as f64 + h[k] * w_hh[k * 4 * d + o] as f64).sum::<f64>()
                    })
                    .collect();
                for j in 0..d {
                    c[j] = sigma(pre[d + j]) * c[j] + sigma(pre[j]) * pre[3 * d + j].tanh();
                }
                for j in 0..d {
                    h[j] = sigma(pre[2 * d + j]) * c[j].tanh();
                    let value = got[(s * seq + t) * d + j] as f64;
                    assert!((value - h[j]).abs() < 1e-6, "sequence {s}, step {t}, unit {j}: {value} vs {}", h[j]);
                }
            }
        }
    }

    #[test]
    fn a_later_input_never_changes_an_earlier_state() {
        let device = Device::flex();
        let layer = LstmLayer::new(4, &device);
        let x = Tensor::<3>::random([1, 6, 4], Distribution::Normal(0.0, 1.0), &device);
        let mut altered = values(x.clone());
        altered[4 * 4] += 1.0; // step 4's input
        let altered = Tensor::<3>::from_data(TensorData::new(altered, [1, 6, 4]), &device);
        let (before, after) = (values(layer.forward(x)), values(layer.forward(altered)));
        assert_eq!(before[..16], after[..16]);
        assert_ne!(before[16..], after[16..]);
    }
}
