//! Representation interventions inside the model: LoReFT (Wu et al. 2024, "ReFT: Representation Finetuning for
//! Language Models", eq. 2) edits the residual stream after chosen blocks, at chosen positions, inside the
//! r-dimensional subspace spanned by the orthonormal rows of R:
//!
//! Φ(h) = h + α·Rᵀ(W h + b − R h),
//!
//! with the base frozen. α is 1 for the trained intervention and the WiSE-FT weight along the interpolation path,
//! so α = 0 is the base. Like a [`crate::Prompt`], the intervention is part of the model: an intervened model has
//! the base's inputs and outputs, and every loss, evaluation and training loop works on it unchanged.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// The positions an intervention edits, in pyreft's terms (`f1`, `l4`, …), counted on the model's input
/// `BOS, x_1, …, x_{n−1}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterventionPositions {
    /// Every position (TOML: `positions = "all"`).
    All,
    /// The first k positions (`positions = { first = k }`). `first = 1` is the prompt slot: BOS, which every
    /// later position reads through attention in the blocks after the intervention, as it reads a prompt.
    First(usize),
    /// The last k positions of each input (`positions = { last = k }`): only the last k predictions change.
    Last(usize),
}

impl InterventionPositions {
    /// `[1, seq, 1]`: 1 at the edited positions, 0 elsewhere; `None` when every position is edited.
    fn mask(self, seq: usize, device: &Device) -> Option<Tensor<3>> {
        let edited = match self {
            Self::All => return None,
            Self::First(k) => 0..k.min(seq),
            Self::Last(k) => seq.saturating_sub(k)..seq,
        };
        let mask: Vec<f32> = (0..seq).map(|t| if edited.contains(&t) { 1.0 } else { 0.0 }).collect();
        Some(Tensor::from_data(TensorData::new(mask, [1, seq, 1]), device))
    }
}

/// One LoReFT site: the low-rank projection R and the learned source W h + b.
#[derive(Module, Debug)]
pub struct LoReft {
    /// R̃ `[r, d_model]`, unconstrained; the projection is R = [`orthonormal_rows`]`(R̃)`, so R keeps orthonormal
    /// rows whatever the optimizer does to R̃ (the QR parametrisation of PyTorch's `orthogonal`, which pyreft uses).
    pub rotation: Param<Tensor<2>>,
    /// W h + b, with W stored as burn's `[d_model, r]` (pyreft's `learned_source`).
    pub learned_source: Linear,
}

impl LoReft {
    /// A site whose edit is exactly zero: R̃ drawn orthonormal from `device`'s generator and W = R, b = 0, so
    /// (W − R) h + b = 0 and Φ(h) = h bit for bit until training moves W, b or R̃ (as LoRA starts at B = 0).
    ///
    /// # Shapes
    /// R̃ `[rank, d_model]`, W `[d_model, rank]`, b `[rank]`.
    pub fn identity(d_model: usize, rank: usize, device: &Device) -> Self {
        let rotation = orthonormal_rows(Tensor::random([rank, d_model], Distribution::Normal(0.0, 1.0), device));
        // W must equal the R that `edit` computes from the stored R̃, to the bit: the same function of the same values.
        let weight = orthonormal_rows(rotation.clone()).transpose();
        let learned_source =
            Linear { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(Tensor::zeros([rank], device))) };
        Self { rotation: Param::from_tensor(rotation), learned_source }
    }

    /// The projection R `[r, d_model]`, with orthonormal rows.
    pub fn projection(&self) -> Tensor<2> {
        orthonormal_rows(self.rotation.val())
    }

    /// The edit Rᵀ(W h + b − R h) of every row h, computed as Rᵀ((W − R) h + b): one matmul fewer, and exactly
    /// zero when W = R and b = 0.
    ///
    /// # Shapes
    /// - `rows`: `[n, d_model]` → output `[n, d_model]`
    pub fn edit(&self, rows: Tensor<2>) -> Tensor<2> {
        let projection = self.projection(); // [r, d_model]
        let difference = self.learned_source.weight.val() - projection.clone().transpose(); // [d_model, r]
        let mut low_rank = rows.matmul(difference); // [n, r]
        if let Some(bias) = &self.learned_source.bias {
            low_rank = low_rank + bias.val().unsqueeze_dim::<2>(0);
        }
        low_rank.matmul(projection) // [n, d_model]
    }
}

/// LoReFT interventions after chosen blocks of a [`crate::Network`].
#[derive(Module, Debug)]
pub struct Intervention {
    /// One site per entry of `layers`.
    pub sites: Vec<LoReft>,
    /// The blocks (0-based) after whose output each site edits the residual stream.
    #[module(skip)]
    pub layers: Vec<usize>,
    #[module(skip)]
    pub positions: InterventionPositions,
    /// α in Φ(h) = h + α·Rᵀ(W h + b − R h).
    #[module(skip)]
    pub scale: f64,
}

impl Intervention {
    /// Sites after each block of `layers` that start as the identity ([`LoReft::identity`]), at scale 1.
    pub fn identity(layers: &[usize], positions: InterventionPositions, d_model: usize, rank: usize, device: &Device) -> Self {
        Self {
            sites: layers.iter().map(|_| LoReft::identity(d_model, rank, device)).collect(),
            layers: layers.to_vec(),
            positions,
            scale: 1.0,
        }
    }

    /// The same intervention at scale α (the WiSE-FT path of a representation edit).
    pub fn scaled(mut self, alpha: f64) -> Self {
        self.scale = alpha;
        self
    }

    /// The residual stream after block `layer`, edited when a site sits there: h + α·mask·Rᵀ(W h + b − R h).
    ///
    /// # Shapes
    /// - `h`, output: `[batch, seq, d_model]`
    pub fn apply(&self, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let Some(site) = self.layers.iter().position(|&at| at == layer).map(|i| &self.sites[i]) else {
            return h;
        };
        let [batch, seq, d_model] = h.dims();
        let edit = site.edit(h.clone().reshape([batch * seq, d_model])).reshape([batch, seq, d_model]);
        let edit = if self.scale == 1.0 { edit } else { edit.mul_scalar(self.scale) };
        let edit = match self.positions.mask(seq, &h.device()) {
            Some(mask) => edit * mask, // [batch, seq, d_model] · [1, seq, 1]
            None => edit,
        };
        h + edit
    }
}

/// Gram–Schmidt on the rows of `m` (modified form, for stability): row i becomes
/// u_i = v_i / ‖v_i‖ with v_i = m_i − Σ_{j<i} (m_i · u_j) u_j, so the result has orthonormal rows spanning the
/// same subspace as m's, and is differentiable in m (burn operations only).
///
/// # Shapes
/// - `m`: `[r, d]` with r ≤ d and independent rows → output `[r, d]`
pub fn orthonormal_rows(m: Tensor<2>) -> Tensor<2> {
    let [rank, d] = m.dims();
    let mut rows: Vec<Tensor<2>> = Vec::with_capacity(rank);
    for i in 0..rank {
        let mut v = m.clone().slice([i..i + 1, 0..d]); // [1, d]
        for u in &rows {
            let along = (v.clone() * u.clone()).sum_dim(1); // [1, 1]
            v = v - u.clone() * along;
        }
        let norm = v.clone().powi_scalar(2).sum_dim(1).sqrt(); // [1, 1]
        rows.push(v / norm);
    }
    Tensor::cat(rows, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(tensor: Tensor<2>) -> Vec<f32> {
        tensor.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn orthonormal_rows_gives_r_r_transpose_equal_to_the_identity() {
        let device = Device::flex();
        device.seed(3);
        let m = Tensor::random([4, 16], Distribution::Normal(0.0, 1.0), &device);
        let r = orthonormal_rows(m);
        let gram = values(r.clone().matmul(r.transpose()));
        for i in 0..4 {
            for j in 0..4 {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((gram[i * 4 + j] - expected).abs() < 1e-5, "(R Rᵀ)[{i}][{j}] = {}", gram[i * 4 + j]);
            }
        }
    }

    #[test]
    fn orthonormal_rows_keeps_the_first_direction() {
        // Row 0 is only normalised: (3, 4) / 5.
        let device = Device::flex();
        let m = Tensor::from_data(TensorData::new(vec![3.0f32, 4.0, 1.0, 0.0], [2, 2]), &device);
        let r = values(orthonormal_rows(m));
        assert!((r[0] - 0.6).abs() < 1e-7 && (r[1] - 0.8).abs() < 1e-7, "{r:?}");
        // Row 1: (1, 0) − 0.6·(0.6, 0.8) = (0.64, −0.48), norm 0.8 → (0.8, −0.6).
        assert!((r[2] - 0.8).abs() < 1e-6 && (r[3] + 0.6).abs() < 1e-6, "{r:?}");
    }

    #[test]
    fn the_last_k_mask_covers_the_end_and_first_k_the_start() {
        let device = Device::flex();
        let mask = |positions: InterventionPositions| -> Vec<f32> {
            positions.mask(5, &device).unwrap().into_data().try_to_vec::<f32>().unwrap()
        };
        assert_eq!(mask(InterventionPositions::Last(2)), [0.0, 0.0, 0.0, 1.0, 1.0]);
        assert_eq!(mask(InterventionPositions::First(1)), [1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(mask(InterventionPositions::Last(9)), [1.0; 5], "k beyond the input edits all of it");
        assert!(InterventionPositions::All.mask(5, &device).is_none());
    }

    #[test]
    fn positions_parse_from_toml_as_pyreft_names_them() {
        #[derive(Deserialize)]
        struct Table {
            positions: InterventionPositions,
        }
        let parse = |text: &str| toml::from_str::<Table>(text).unwrap().positions;
        assert_eq!(parse("positions = \"all\""), InterventionPositions::All);
        assert_eq!(parse("positions = { first = 1 }"), InterventionPositions::First(1));
        assert_eq!(parse("positions = { last = 4 }"), InterventionPositions::Last(4));
    }
}
