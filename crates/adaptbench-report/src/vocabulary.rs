//! The names every result file uses (DESIGN.md §2), defined once: producers (the adapt and prompt crates)
//! and the report share these enums, and CSV files spell them in snake case.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Spells each variant as its snake-case name (`Display`, `as_str`, `FromStr`, `ALL`), the form serde uses.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every variant, in the order tables and legends list them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The name in result files, tables and legends.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        /// The first variant, so that row types can derive `Default` (their CSV header comes from it).
        impl Default for $name {
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|value| value.as_str()).collect();
                    format!("unknown {} `{text}`, expected one of {}", stringify!($name), names.join(", "))
                })
            }
        }
    };
}

vocabulary!(
    /// An adaptation method (DESIGN.md §5), or `none`: the base itself.
    Method {
        /// The base model, unadapted; also the α = 0 end of every interpolation.
        None = "none",
        Full = "full",
        Head = "head",
        Embed = "embed",
        LpFt = "lp_ft",
        Lora = "lora",
        HardPrompt = "hard_prompt",
        SoftPrompt = "soft_prompt",
        /// LoReFT: a low-rank edit of the residual stream, base frozen (last, so that the committed figures keep
        /// their colours).
        Reft = "reft",
    }
);

impl Method {
    /// Whether it adapts a prompt: the base's weights stay, so α has only the ends 0 and 1.
    pub fn is_prompt(self) -> bool {
        matches!(self, Method::HardPrompt | Method::SoftPrompt)
    }
}

vocabulary!(
    /// Whether an evaluation source is the task itself or a shift away from it.
    Role {
        /// In distribution: the task (`eval_source` = `task`).
        Id = "id",
        /// Out of distribution: an entry of the OOD suite.
        Ood = "ood",
    }
);

vocabulary!(
    /// Which pretrained base a model-update row evaluates the adaptation on.
    EvalBase {
        /// The base the prompt or adapter was found on (pretrained with seed A).
        FoundOn = "found_on",
        /// The base pretrained with another seed (seed B), the adaptation moved onto it unchanged.
        Other = "other",
    }
);

vocabulary!(
    /// How a prompt of a given length was chosen (the efficiency analysis).
    PromptKind {
        /// The prompt of that length with the lowest reference loss.
        Optimal = "optimal",
        /// Prompts sampled from the task source itself: what "show it some examples" gives.
        Typical = "typical",
        /// Prompts of uniformly random bits: the no-information baseline.
        Random = "random",
    }
);

vocabulary!(
    /// A predictor whose prompt space is analysed.
    Predictor {
        /// The exact Bayes predictor of the pretraining source.
        Bayes = "bayes",
        /// The pretrained base model.
        Neural = "neural",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_variant_and_serde_agrees() {
        for &method in Method::ALL {
            assert_eq!(method.as_str().parse::<Method>(), Ok(method));
            assert_eq!(serde_json::to_string(&method).unwrap(), format!("\"{method}\""));
        }
        assert_eq!(Method::LpFt.as_str(), "lp_ft");
        assert_eq!(EvalBase::FoundOn.to_string(), "found_on");
        let message = "lp-ft".parse::<Method>().unwrap_err();
        assert!(message.contains("unknown Method `lp-ft`") && message.contains("lp_ft"), "{message}");
    }
}
