//! The next-bit log-loss. Training minimises it in nats; every reported number is in bits (÷ ln 2).

use adaptbench_model::fused::next_bit_cross_entropy;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// log P(x_{t+1} = target) for every position.
///
/// # Shapes
/// - `logits`: `[batch, seq, 2]`, `targets`: `[batch, seq]` → output `[batch, seq]`
pub fn next_bit_log_probs(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<2> {
    let log_probs = log_softmax(logits, 2); // [batch, seq, 2]
    log_probs.gather(2, targets.unsqueeze_dim(2)).squeeze_dim(2)
}

/// Mean next-bit cross-entropy in nats, `−(1/BT) Σ log P(x_{t+1})`, as a one-element tensor (differentiable;
/// one fused op on the CPU backend).
pub fn next_bit_loss_nats(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    next_bit_cross_entropy(logits, targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn loss_of_known_logits_is_the_closed_form() {
        // Logits (0, ln 3) give P(1) = 3/4: loss of a 1 is −ln(3/4), of a 0 is −ln(1/4); mean = ln(16/3)/2.
        let device = Device::flex();
        let l3 = 3f32.ln();
        let logits = Tensor::<3>::from_data(TensorData::new(vec![0.0, l3, 0.0, l3], [1, 2, 2]), &device);
        let targets = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 0], [1, 2]), &device);
        let loss = next_bit_loss_nats(logits, targets).into_scalar::<f32>();
        assert!((loss - (16f32 / 3.0).ln() / 2.0).abs() < 1e-6, "{loss}");
    }
}
