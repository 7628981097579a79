//! `SourceSpec`: the TOML description of a source, e.g. `{ kind = "mix", thetas = [0.2, 0.7], weights =
//! [0.5, 0.5] }`. Deserialised strictly (unknown keys are errors), validated with errors that name the full
//! TOML key and the allowed range, serialised back into resolved configs, and built into a [`Source`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::check::{self, sub};
use crate::source::LatentCoin;
use crate::{bern, beta, markov, mix, switching};
use crate::{Bern, BetaBernoulli, Markov, Mix, Source, SourceError, Switching};

/// A source as written in a config table, tagged by `kind`. Unknown keys in any variant are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceSpec {
    /// `bern(p)`: i.i.d. coin with P(1) = p ∈ (0, 1).
    Bern {
        /// P(x_t = 1), in (0, 1).
        p: f64,
    },
    /// `mix(thetas, weights)`: θ = `thetas[k]` with probability `weights[k]`.
    Mix {
        /// Component biases, each in (0, 1); at least one.
        thetas: Vec<f64>,
        /// Prior weights, positive, one per component, summing to 1 (within 1e-9).
        weights: Vec<f64>,
    },
    /// `beta(a, b)`: θ ~ Beta(a, b). KT is a = b = 0.5, Laplace a = b = 1.
    Beta {
        /// Pseudo-count of ones, in (0, inf).
        a: f64,
        /// Pseudo-count of zeros, in (0, inf).
        b: f64,
    },
    /// `switching(inner, rate)`: the inner source's θ, re-drawn before each step with probability `rate`.
    Switching {
        /// The per-segment source: `bern`, `mix` or `beta`.
        inner: Box<SourceSpec>,
        /// Change-point probability per step, in [0, 1).
        rate: f64,
    },
    /// `markov(order, a, b)`: order-k chain with θ_c ~ Beta(a, b) per context.
    Markov {
        /// Number of previous tokens in the context, in 0..=8.
        order: usize,
        /// Per-context pseudo-count of ones, in (0, inf).
        a: f64,
        /// Per-context pseudo-count of zeros, in (0, inf).
        b: f64,
    },
}

impl SourceSpec {
    /// The `kind` tag as written in TOML: `bern`, `mix`, `beta`, `switching` or `markov`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Bern { .. } => "bern",
            Self::Mix { .. } => "mix",
            Self::Beta { .. } => "beta",
            Self::Switching { .. } => "switching",
            Self::Markov { .. } => "markov",
        }
    }

    /// Checks every parameter; `key` is the TOML path of this table (e.g. `pretrain.source`, or `""` for
    /// bare field names) and prefixes every key in the error, e.g.
    /// `pretrain.source.thetas[1] = 1.2 is outside the allowed range (0, 1)`.
    ///
    /// Rules: probabilities in (0, 1); thetas non-empty; weights positive, as many as thetas, summing to 1
    /// within 1e-9 (rejected, never silently normalised); a, b in (0, inf); rate in [0, 1); order in 0..=8;
    /// the inner source of `switching` is `bern`, `mix` or `beta`.
    pub fn validate(&self, key: &str) -> Result<(), SourceError> {
        match self {
            Self::Bern { p } => check::probability(sub(key, "p"), *p),
            Self::Mix { thetas, weights } => check::mixture(key, thetas, weights),
            Self::Beta { a, b } => {
                check::pseudo_count(sub(key, "a"), *a)?;
                check::pseudo_count(sub(key, "b"), *b)
            }
            Self::Switching { inner, rate } => {
                let inner_key = sub(key, "inner");
                match inner.as_ref() {
                    Self::Bern { .. } | Self::Mix { .. } | Self::Beta { .. } => {
                        inner.validate(&inner_key)?
                    }
                    other => {
                        return Err(SourceError::UnsupportedInner {
                            key: sub(&inner_key, "kind"),
                            kind: other.kind(),
                        })
                    }
                }
                check::rate(sub(key, "rate"), *rate)
            }
            Self::Markov { order, a, b } => {
                check::order(sub(key, "order"), *order)?;
                check::pseudo_count(sub(key, "a"), *a)?;
                check::pseudo_count(sub(key, "b"), *b)
            }
        }
    }

    /// Validates (with bare field names, as `validate("")`; call [`validate`](Self::validate) with the TOML
    /// path first for errors that name it) and builds the source.
    pub fn build(&self) -> Result<Box<dyn Source>, SourceError> {
        self.validate("")?;
        Ok(match self {
            Self::Switching { inner, rate } => {
                Box::new(Switching::new(inner.build_latent_coin()?, *rate)?)
            }
            Self::Markov { order, a, b } => Box::new(Markov::new(*order, *a, *b)?),
            Self::Bern { .. } | Self::Mix { .. } | Self::Beta { .. } => self.build_latent_coin()?,
        })
    }

    /// Builds a source with a single latent coin bias, the kinds `switching` can re-draw.
    fn build_latent_coin(&self) -> Result<Box<dyn LatentCoin>, SourceError> {
        match self {
            Self::Bern { p } => Ok(Box::new(Bern::new(*p)?)),
            Self::Mix { thetas, weights } => {
                Ok(Box::new(Mix::new(thetas.clone(), weights.clone())?))
            }
            Self::Beta { a, b } => Ok(Box::new(BetaBernoulli::new(*a, *b)?)),
            Self::Switching { .. } | Self::Markov { .. } => Err(SourceError::UnsupportedInner {
                key: "inner.kind".to_owned(),
                kind: self.kind(),
            }),
        }
    }
}

/// The canonical name, identical to the built source's [`Source::name`], e.g.
/// `mix(thetas=[0.2, 0.7], weights=[0.5, 0.5])`.
impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Bern { p } => bern::canonical_name(*p),
            Self::Mix { thetas, weights } => mix::canonical_name(thetas, weights),
            Self::Beta { a, b } => beta::canonical_name(*a, *b),
            Self::Switching { inner, rate } => switching::canonical_name(&inner.to_string(), *rate),
            Self::Markov { order, a, b } => markov::canonical_name(*order, *a, *b),
        };
        f.write_str(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config table holding one source, as the real configs nest it.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        source: SourceSpec,
    }

    fn parse(inline: &str) -> Result<SourceSpec, toml::de::Error> {
        toml::from_str::<Table>(&format!("source = {inline}")).map(|table| table.source)
    }

    fn all_kinds() -> Vec<SourceSpec> {
        vec![
            SourceSpec::Bern { p: 0.7 },
            SourceSpec::Mix {
                thetas: vec![0.2, 0.7],
                weights: vec![0.5, 0.5],
            },
            SourceSpec::Beta { a: 0.5, b: 0.5 },
            SourceSpec::Switching {
                inner: Box::new(SourceSpec::Mix {
                    thetas: vec![0.2, 0.7],
                    weights: vec![0.25, 0.75],
                }),
                rate: 0.05,
            },
            SourceSpec::Markov {
                order: 2,
                a: 1.0,
                b: 1.0,
            },
        ]
    }

    #[test]
    fn spec_parses_an_inline_table() {
        let spec =
            parse(r#"{ kind = "mix", thetas = [0.2, 0.7], weights = [0.5, 0.5] }"#).expect("valid");
        assert_eq!(
            spec,
            SourceSpec::Mix {
                thetas: vec![0.2, 0.7],
                weights: vec![0.5, 0.5]
            }
        );
    }

    #[test]
    fn spec_accepts_integers_for_real_parameters() {
        let spec = parse(r#"{ kind = "beta", a = 1, b = 2 }"#).expect("valid");
        assert_eq!(spec, SourceSpec::Beta { a: 1.0, b: 2.0 });
    }

    #[test]
    fn spec_round_trips_through_toml() {
        for spec in all_kinds() {
            let table = Table { source: spec };
            let text = toml::to_string(&table).expect("serialisable");
            let back: Table = toml::from_str(&text).expect("parses back");
            assert_eq!(back, table, "{text}");
        }
    }

    #[test]
    fn spec_rejects_unknown_keys() {
        let err = parse(r#"{ kind = "mix", thetas = [0.5], weights = [1.0], foo = 1 }"#)
            .expect_err("unknown key");
        assert!(err.to_string().contains("foo"), "{err}");
        let err = parse(
            r#"{ kind = "switching", rate = 0.1, inner = { kind = "bern", p = 0.5, q = 1 } }"#,
        )
        .expect_err("unknown nested key");
        assert!(err.to_string().contains('q'), "{err}");
    }

    #[test]
    fn spec_rejects_unknown_kinds_and_missing_keys() {
        let err = parse(r#"{ kind = "gauss", p = 0.5 }"#).expect_err("unknown kind");
        assert!(err.to_string().contains("gauss"), "{err}");
        let err = parse(r#"{ kind = "beta", a = 1.0 }"#).expect_err("missing b");
        assert!(err.to_string().contains("`b`"), "{err}");
    }

    #[test]
    fn spec_display_equals_the_built_source_name() {
        for spec in all_kinds() {
            assert_eq!(spec.to_string(), spec.build().expect("valid").name());
        }
        assert_eq!(
            all_kinds()[3].to_string(),
            "switching(inner=mix(thetas=[0.2, 0.7], weights=[0.25, 0.75]), rate=0.05)"
        );
    }

    /// The validation message for `spec` at key `pretrain.source`.
    fn error(spec: SourceSpec) -> String {
        spec.validate("pretrain.source")
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn validation_names_the_key_and_range_of_a_bad_probability() {
        assert_eq!(
            error(SourceSpec::Bern { p: 1.0 }),
            "pretrain.source.p = 1 is outside the allowed range (0, 1)"
        );
        assert_eq!(
            error(SourceSpec::Mix {
                thetas: vec![0.2, 1.2],
                weights: vec![0.5, 0.5]
            }),
            "pretrain.source.thetas[1] = 1.2 is outside the allowed range (0, 1)"
        );
    }

    #[test]
    fn validation_rejects_empty_thetas() {
        assert_eq!(
            error(SourceSpec::Mix {
                thetas: vec![],
                weights: vec![]
            }),
            "pretrain.source.thetas is empty; it needs at least one entry"
        );
    }

    #[test]
    fn validation_names_both_lengths_of_mismatched_weights() {
        assert_eq!(
            error(SourceSpec::Mix { thetas: vec![0.2, 0.7], weights: vec![1.0] }),
            "pretrain.source.weights has 1 entries but pretrain.source.thetas has 2; they must have the same length"
        );
    }

    #[test]
    fn validation_rejects_non_positive_weights() {
        assert_eq!(
            error(SourceSpec::Mix {
                thetas: vec![0.2, 0.7],
                weights: vec![1.0, 0.0]
            }),
            "pretrain.source.weights[1] = 0 is outside the allowed range (0, 1]"
        );
        // Weights summing to 1 are each at most 1 only if none is negative; the range check catches both.
        assert_eq!(
            error(SourceSpec::Mix {
                thetas: vec![0.2, 0.7],
                weights: vec![1.5, -0.5]
            }),
            "pretrain.source.weights[0] = 1.5 is outside the allowed range (0, 1]"
        );
    }

    #[test]
    fn validation_rejects_unnormalised_weights() {
        assert_eq!(
            error(SourceSpec::Mix {
                thetas: vec![0.2, 0.7],
                weights: vec![0.5, 0.6]
            }),
            "pretrain.source.weights sums to 1.1, but the weights must sum to 1 (within 1e-9)"
        );
        // Within 1e-9 of 1 is accepted: decimal weights like [0.1, 0.2, 0.7] rarely sum to exactly 1.0.
        let spec = SourceSpec::Mix {
            thetas: vec![0.1, 0.2, 0.3],
            weights: vec![0.1, 0.2, 0.7],
        };
        assert_eq!(spec.validate("pretrain.source"), Ok(()));
    }

    #[test]
    fn validation_rejects_bad_pseudo_counts() {
        assert_eq!(
            error(SourceSpec::Beta { a: 0.5, b: -1.0 }),
            "pretrain.source.b = -1 is outside the allowed range (0, inf)"
        );
        assert_eq!(
            error(SourceSpec::Markov {
                order: 1,
                a: f64::NAN,
                b: 1.0
            }),
            "pretrain.source.a = NaN is outside the allowed range (0, inf)"
        );
    }

    #[test]
    fn validation_rejects_a_rate_outside_zero_to_one() {
        let inner = Box::new(SourceSpec::Bern { p: 0.5 });
        assert_eq!(
            error(SourceSpec::Switching {
                inner: inner.clone(),
                rate: 1.0
            }),
            "pretrain.source.rate = 1 is outside the allowed range [0, 1)"
        );
        assert_eq!(
            error(SourceSpec::Switching { inner, rate: -0.1 }),
            "pretrain.source.rate = -0.1 is outside the allowed range [0, 1)"
        );
    }

    #[test]
    fn validation_rejects_a_markov_order_above_eight() {
        assert_eq!(
            error(SourceSpec::Markov {
                order: 9,
                a: 1.0,
                b: 1.0
            }),
            "pretrain.source.order = 9 is outside the allowed range 0..=8"
        );
    }

    #[test]
    fn validation_names_the_nested_key_of_a_bad_inner_source() {
        let inner = Box::new(SourceSpec::Beta { a: 0.0, b: 1.0 });
        assert_eq!(
            error(SourceSpec::Switching { inner, rate: 0.1 }),
            "pretrain.source.inner.a = 0 is outside the allowed range (0, inf)"
        );
    }

    #[test]
    fn validation_rejects_switching_and_markov_as_inner_sources() {
        let markov = Box::new(SourceSpec::Markov {
            order: 1,
            a: 1.0,
            b: 1.0,
        });
        assert_eq!(
            error(SourceSpec::Switching { inner: markov, rate: 0.1 }),
            "pretrain.source.inner.kind = \"markov\" cannot be the inner source of switching; allowed: bern, mix, beta"
        );
        let nested = SourceSpec::Switching {
            inner: Box::new(SourceSpec::Bern { p: 0.5 }),
            rate: 0.1,
        };
        let spec = SourceSpec::Switching {
            inner: Box::new(nested),
            rate: 0.1,
        };
        assert!(error(spec.clone()).contains("inner.kind = \"switching\""));
        assert!(spec.build().is_err());
    }

    #[test]
    fn build_validates_with_bare_field_names() {
        let err = SourceSpec::Bern { p: 2.0 }.build().expect_err("invalid");
        assert_eq!(err.to_string(), "p = 2 is outside the allowed range (0, 1)");
    }

    #[test]
    fn built_sources_expose_exchangeability_by_kind() {
        let exchangeable: Vec<bool> = all_kinds()
            .iter()
            .map(|spec| spec.build().expect("valid").as_exchangeable().is_some())
            .collect();
        assert_eq!(exchangeable, vec![true, true, true, false, false]);
    }
}
