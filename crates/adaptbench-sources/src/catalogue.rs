//! The catalogue of source kinds, with their parameters and a TOML example each: what the CLI's
//! `adaptbench sources` command prints, kept beside the code so it cannot drift (a test builds every example).

/// One source kind as documented to users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceKind {
    /// The `kind` tag in TOML.
    pub kind: &'static str,
    /// One line on what the source is and what its Bayes predictor does.
    pub summary: &'static str,
    /// (parameter, description with allowed range) pairs, in the order they are usually written.
    pub params: &'static [(&'static str, &'static str)],
    /// A TOML inline table that builds this source.
    pub example: &'static str,
}

/// Every source kind, in the order `adaptbench sources` lists them.
pub fn catalogue() -> &'static [SourceKind] {
    &CATALOGUE
}

const CATALOGUE: [SourceKind; 5] = [
    SourceKind {
        kind: "bern",
        summary: "i.i.d. coin with a known bias; Bayes predictor p, Bayes floor H(p)",
        params: &[("p", "P(x = 1), in (0, 1)")],
        example: r#"{ kind = "bern", p = 0.7 }"#,
    },
    SourceKind {
        kind: "mix",
        summary: "BernMix: bias drawn from a finite set; Bayes predictor is the posterior mean over the set",
        params: &[
            ("thetas", "component biases, each in (0, 1), at least one"),
            ("weights", "prior weights, positive, one per theta, summing to 1"),
        ],
        example: r#"{ kind = "mix", thetas = [0.2, 0.7], weights = [0.5, 0.5] }"#,
    },
    SourceKind {
        kind: "beta",
        summary: "Beta-Bernoulli: bias ~ Beta(a, b); Bayes predictor (n1 + a) / (n + a + b) \
                  (KT: a = b = 0.5, Laplace: a = b = 1)",
        params: &[("a", "pseudo-count of ones, in (0, inf)"), ("b", "pseudo-count of zeros, in (0, inf)")],
        example: r#"{ kind = "beta", a = 0.5, b = 0.5 }"#,
    },
    SourceKind {
        kind: "switching",
        summary: "piecewise-stationary: the inner bias is re-drawn at change points; \
                  exact Bayes predictor by the Adams & MacKay (2007) run-length recursion, O(T^2)",
        params: &[
            ("inner", "per-segment source table: bern, mix or beta"),
            ("rate", "change-point probability before each step, in [0, 1)"),
        ],
        example: r#"{ kind = "switching", rate = 0.02, inner = { kind = "beta", a = 1.0, b = 1.0 } }"#,
    },
    SourceKind {
        kind: "markov",
        summary: "order-k binary Markov chain, each context's bias ~ Beta(a, b), zero-padded start; \
                  Bayes predictor (n1_c + a) / (n_c + a + b) per context",
        params: &[
            ("order", "context length k, in 0..=8"),
            ("a", "per-context pseudo-count of ones, in (0, inf)"),
            ("b", "per-context pseudo-count of zeros, in (0, inf)"),
        ],
        example: r#"{ kind = "markov", order = 2, a = 0.5, b = 0.5 }"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceSpec;

    #[derive(serde::Deserialize)]
    struct Table {
        source: SourceSpec,
    }

    #[test]
    fn every_catalogue_example_parses_and_builds_as_its_kind() {
        for entry in catalogue() {
            let table: Table = toml::from_str(&format!("source = {}", entry.example))
                .unwrap_or_else(|err| panic!("{}: {err}", entry.kind));
            assert_eq!(table.source.kind(), entry.kind);
            let source = table
                .source
                .build()
                .unwrap_or_else(|err| panic!("{}: {err}", entry.kind));
            assert_eq!(source.name(), table.source.to_string());
        }
    }

    #[test]
    fn catalogue_lists_every_kind_once() {
        let kinds: Vec<&str> = catalogue().iter().map(|entry| entry.kind).collect();
        assert_eq!(kinds, ["bern", "mix", "beta", "switching", "markov"]);
    }

    #[test]
    fn catalogue_params_are_exactly_the_example_keys() {
        for entry in catalogue() {
            let table: toml::Table =
                toml::from_str(&format!("source = {}", entry.example)).expect("valid TOML");
            let mut keys: Vec<&str> = table["source"]
                .as_table()
                .expect("a table")
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "kind")
                .collect();
            let mut params: Vec<&str> = entry.params.iter().map(|(name, _)| *name).collect();
            keys.sort_unstable();
            params.sort_unstable();
            assert_eq!(keys, params, "{}", entry.kind);
        }
    }
}
