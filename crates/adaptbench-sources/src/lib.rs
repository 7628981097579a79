//! Binary sequence sources — distributions over {0,1}^T — with their exact Bayes-optimal predictors: the
//! ground truth a neural Transformer is measured against (no burn dependency; f64 throughout).
//!
//! - [`Source`]: `sample` (latent first, then tokens given it) and `bayes_predictions` (exact
//!   P(x_t = 1 | x_<t)). The kinds: [`Bern`], [`Mix`] (BernMix), [`BetaBernoulli`] (KT, Laplace),
//!   [`Switching`] (change points, Adams & MacKay 2007) and [`Markov`].
//! - [`Exchangeable`] sources predict from counts alone, so [`expected_loss_bits`] gives a prompt's exact
//!   expected loss by summing over counts.
//! - [`SourceSpec`]: the strict TOML form, validated with errors naming the key and the allowed range;
//!   [`catalogue`] documents every kind.
//! - Losses are in bits ([`log_loss_bits`], [`binary_entropy_bits`], [`bernoulli_kl_bits`]); seeds for
//!   every stage come from [`derive_seed`] and [`rng`].

mod bern;
mod beta;
mod catalogue;
mod check;
mod error;
mod expected_loss;
mod info;
mod markov;
mod mix;
mod random;
mod seed;
mod source;
mod spec;
mod switching;
#[cfg(test)]
mod testing;

pub use bern::Bern;
pub use beta::BetaBernoulli;
pub use catalogue::{catalogue, SourceKind};
pub use check::MAX_MARKOV_ORDER;
pub use error::SourceError;
pub use expected_loss::expected_loss_bits;
pub use info::{bernoulli_kl_bits, binary_entropy_bits, log_loss_bits, log_sum_exp, PROB_FLOOR};
pub use markov::Markov;
pub use mix::Mix;
pub use seed::{derive_seed, rng};
pub use source::{Exchangeable, LatentCoin, Sample, Source};
pub use spec::SourceSpec;
pub use switching::Switching;
