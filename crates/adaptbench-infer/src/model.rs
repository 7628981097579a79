//! The frozen model as plain row-major `f32` vectors, in burn's layouts, so that a trained burn `Transformer`
//! can be copied in weight by weight; shape validation and FLOP accounting.

use crate::error::InferError;

/// Vocabulary size: bits 0 and 1 and BOS.
pub const VOCAB: usize = 3;
/// The beginning-of-sequence token id.
pub const BOS: u32 = 2;

/// An affine map `y = x·W + b` (burn's `Linear` layout).
///
/// # Shapes
/// - `weight`: `[d_in, d_out]` row-major (`weight[i * d_out + o]`), `bias`: `[d_out]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// `W`, `[d_in, d_out]` row-major.
    pub weight: Vec<f32>,
    /// `b`, `[d_out]`.
    pub bias: Vec<f32>,
    /// Input width.
    pub d_in: usize,
    /// Output width.
    pub d_out: usize,
}

/// LayerNorm's affine part: `(x − mean) / sqrt(var + eps) · γ + β`.
///
/// # Shapes
/// - `gamma`, `beta`: `[d_model]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Norm {
    /// Scale `γ`, `[d_model]`.
    pub gamma: Vec<f32>,
    /// Shift `β`, `[d_model]`.
    pub beta: Vec<f32>,
}

/// One pre-LN block: `x = x + o(attn(LN_a(x)))`, then `x = x + mlp_out(GELU(mlp_in(LN_m(x))))`.
///
/// # Shapes
/// - `q`, `k`, `v`, `o`: `[d_model, d_model]`; `mlp_in`: `[d_model, mlp]`; `mlp_out`: `[mlp, d_model]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenBlock {
    /// `LN_a`, before attention.
    pub attention_norm: Norm,
    /// Query projection, `d_model → d_model` (head `h` uses columns `h·hd..(h+1)·hd`).
    pub q: Dense,
    /// Key projection, `d_model → d_model`.
    pub k: Dense,
    /// Value projection, `d_model → d_model`.
    pub v: Dense,
    /// Output projection of the concatenated heads, `d_model → d_model`.
    pub o: Dense,
    /// `LN_m`, before the MLP.
    pub mlp_norm: Norm,
    /// `d_model → mlp`, followed by the exact GELU.
    pub mlp_in: Dense,
    /// `mlp → d_model`.
    pub mlp_out: Dense,
}

/// A trained decoder-only pre-LN Transformer over {0, 1, BOS}, frozen (DESIGN.md §4).
///
/// Input embedding at position `t` of token `id`: `token_embedding[id] + positions[t]`; then the blocks, a final
/// LayerNorm and `head` (d_model → 2 logits of the next bit). Attention is causal, `n_heads` heads of width
/// `d_model / n_heads`, scores scaled by `1/√head_dim`.
///
/// # Shapes
/// - `token_embedding`: `[3, d_model]`, `positions`: `[context, d_model]` (learned, or a precomputed sinusoidal
///   table), `head`: `[d_model, 2]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenTransformer {
    /// Width of the residual stream.
    pub d_model: usize,
    /// Attention heads per block; divides `d_model`.
    pub n_heads: usize,
    /// Longest input in positions (BOS + prompt + task tokens).
    pub context: usize,
    /// LayerNorm epsilon, added to the population variance. Burn's (and PyTorch's) default: 1e-5.
    pub layer_norm_eps: f32,
    /// `[3, d_model]`: rows for tokens 0, 1 and BOS.
    pub token_embedding: Vec<f32>,
    /// `[context, d_model]`: row `t` is added at position `t`.
    pub positions: Vec<f32>,
    /// The pre-LN blocks, in order (`n_layers` of them; may be empty).
    pub blocks: Vec<FrozenBlock>,
    /// LayerNorm after the last block.
    pub final_norm: Norm,
    /// `d_model → 2`: logits of the next bit being 0 and 1.
    pub head: Dense,
}

/// Dimensions of a [`FrozenTransformer`], for building models of a given shape (tests, benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelShape {
    /// Width of the residual stream.
    pub d_model: usize,
    /// Number of blocks.
    pub n_layers: usize,
    /// Attention heads per block.
    pub n_heads: usize,
    /// Hidden width of the MLP (burn's `mlp_ratio · d_model`).
    pub mlp: usize,
    /// Longest input in positions.
    pub context: usize,
}

impl ModelShape {
    /// The quickstart model (README): d_model 64, 2 layers, 4 heads of width 16, MLP 256, context 64.
    pub const QUICKSTART: ModelShape = ModelShape { d_model: 64, n_layers: 2, n_heads: 4, mlp: 256, context: 64 };
}

impl FrozenTransformer {
    /// Number of blocks.
    pub fn n_layers(&self) -> usize {
        self.blocks.len()
    }

    /// Width of one attention head, `d_model / n_heads`.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.n_heads
    }

    /// Hidden width of the MLP (`mlp_in.d_out`; 0 for a model without blocks).
    pub fn mlp_width(&self) -> usize {
        self.blocks.first().map_or(0, |b| b.mlp_in.d_out)
    }

    /// Checks the dimensions and the length of every vector; the error names the first bad field.
    pub fn validate(&self) -> Result<(), InferError> {
        let d = self.d_model;
        let dims = |what: String| Err(InferError::Dimensions { what });
        if d == 0 || self.n_heads == 0 || self.context == 0 {
            return dims(format!(
                "d_model ({d}), n_heads ({}) and context ({}) must be positive",
                self.n_heads, self.context
            ));
        }
        if !d.is_multiple_of(self.n_heads) {
            return dims(format!("n_heads ({}) must divide d_model ({d})", self.n_heads));
        }
        if !(self.layer_norm_eps >= 0.0 && self.layer_norm_eps.is_finite()) {
            return dims(format!("layer_norm_eps ({}) must be finite and non-negative", self.layer_norm_eps));
        }
        check_len("token_embedding", &self.token_embedding, VOCAB * d)?;
        check_len("positions", &self.positions, self.context * d)?;
        let mlp = self.mlp_width();
        if !self.blocks.is_empty() && mlp == 0 {
            return dims("the MLP width (blocks[0].mlp_in.d_out) must be positive".to_string());
        }
        for (i, block) in self.blocks.iter().enumerate() {
            let name = |part: &str| format!("blocks[{i}].{part}");
            check_norm(&name("attention_norm"), &block.attention_norm, d)?;
            check_dense(&name("q"), &block.q, d, d)?;
            check_dense(&name("k"), &block.k, d, d)?;
            check_dense(&name("v"), &block.v, d, d)?;
            check_dense(&name("o"), &block.o, d, d)?;
            check_norm(&name("mlp_norm"), &block.mlp_norm, d)?;
            check_dense(&name("mlp_in"), &block.mlp_in, d, mlp)?;
            check_dense(&name("mlp_out"), &block.mlp_out, mlp, d)?;
        }
        check_norm("final_norm", &self.final_norm, d)?;
        check_dense("head", &self.head, d, 2)
    }

    /// Non-embedding matmul weights `P`: per block `4·d² + 2·d·mlp` (q, k, v, o, mlp_in, mlp_out), plus the
    /// head's `2·d`. Biases and LayerNorm parameters are not counted (they cost `O(d)` per token, not `O(d²)`).
    pub fn matmul_params(&self) -> u64 {
        let (d, mlp) = (self.d_model as u64, self.mlp_width() as u64);
        self.n_layers() as u64 * (4 * d * d + 2 * d * mlp) + 2 * d
    }

    /// FLOPs of one token's forward pass attending to `keys` positions (itself included):
    /// `2·P + n_layers · 4·keys·d_model` (a multiply-add is 2 FLOPs; `QKᵀ` and `AV` each cost `2·keys·d`).
    pub fn token_flops(&self, keys: usize) -> u64 {
        2 * self.matmul_params() + self.n_layers() as u64 * 4 * keys as u64 * self.d_model as u64
    }

    /// A model of the given shape with deterministic pseudo-random weights, for tests and benchmarks: dense
    /// weights `N(0, 1/d_in)` (Kaiming-like, so activations keep their scale through depth), biases `N(0, 0.02²)`,
    /// token embeddings `N(0, 1)`, positions `N(0, 0.5²)`, LayerNorm `γ = 1 + N(0, 0.1²)`, `β = N(0, 0.1²)`.
    pub fn pseudo_random(shape: ModelShape, seed: u64) -> FrozenTransformer {
        let ModelShape { d_model: d, n_layers, n_heads, mlp, context } = shape;
        let mut rng = Normal::new(seed);
        let mut vector = |n: usize, mean: f32, std: f32| (0..n).map(|_| mean + std * rng.sample()).collect::<Vec<_>>();
        let mut dense = |d_in: usize, d_out: usize| Dense {
            weight: vector(d_in * d_out, 0.0, 1.0 / (d_in as f32).sqrt()),
            bias: vector(d_out, 0.0, 0.02),
            d_in,
            d_out,
        };
        let mut blocks = Vec::with_capacity(n_layers);
        for _ in 0..n_layers {
            let (q, k, v, o) = (dense(d, d), dense(d, d), dense(d, d), dense(d, d));
            let (mlp_in, mlp_out) = (dense(d, mlp), dense(mlp, d));
            blocks.push((q, k, v, o, mlp_in, mlp_out));
        }
        let head = dense(d, 2);
        let mut norm = || Norm { gamma: vector(d, 1.0, 0.1), beta: vector(d, 0.0, 0.1) };
        let blocks = blocks
            .into_iter()
            .map(|(q, k, v, o, mlp_in, mlp_out)| FrozenBlock {
                attention_norm: norm(),
                q,
                k,
                v,
                o,
                mlp_norm: norm(),
                mlp_in,
                mlp_out,
            })
            .collect();
        let final_norm = norm();
        let mut rng = Normal::new(seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut vector = |n: usize, std: f32| (0..n).map(|_| std * rng.sample()).collect::<Vec<_>>();
        FrozenTransformer {
            d_model: d,
            n_heads,
            context,
            layer_norm_eps: 1e-5,
            token_embedding: vector(VOCAB * d, 1.0),
            positions: vector(context * d, 0.5),
            blocks,
            final_norm,
            head,
        }
    }
}

pub(crate) fn check_len(field: &str, values: &[f32], expected: usize) -> Result<(), InferError> {
    if values.len() == expected {
        Ok(())
    } else {
        Err(InferError::Shape { field: field.to_string(), expected, found: values.len() })
    }
}

pub(crate) fn check_norm(field: &str, norm: &Norm, d: usize) -> Result<(), InferError> {
    check_len(&format!("{field}.gamma"), &norm.gamma, d)?;
    check_len(&format!("{field}.beta"), &norm.beta, d)
}

pub(crate) fn check_dense(field: &str, dense: &Dense, d_in: usize, d_out: usize) -> Result<(), InferError> {
    if dense.d_in != d_in || dense.d_out != d_out {
        return Err(InferError::Dimensions {
            what: format!("{field} is {}×{}, expected {d_in}×{d_out}", dense.d_in, dense.d_out),
        });
    }
    check_len(&format!("{field}.weight"), &dense.weight, d_in * d_out)?;
    check_len(&format!("{field}.bias"), &dense.bias, d_out)
}

/// Standard normal samples from SplitMix64 + Box–Muller: deterministic, dependency-free, good enough for weights.
pub(crate) struct Normal {
    state: u64,
    spare: Option<f32>,
}

impl Normal {
    pub(crate) fn new(seed: u64) -> Self {
        Normal { state: seed, spare: None }
    }

    fn uniform(&mut self) -> f64 {
        // SplitMix64 (Steele et al. 2014).
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // 53 random bits in (0, 1].
        ((z >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn sample(&mut self) -> f32 {
        if let Some(spare) = self.spare.take() {
            return spare;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some((radius * angle.sin()) as f32);
        (radius * angle.cos()) as f32
    }
}
