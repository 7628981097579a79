//! The experiment configuration: one TOML file, parsed with unknown keys rejected, then validated as a whole
//! before any work starts (the binary's "low args → high args" step).

use std::path::Path;

use adaptbench_adapt::{EvalConfig, FinetuneConfig, MethodsConfig};
use adaptbench_model::TransformerConfig;
use adaptbench_prompt::SearchConfig;
use adaptbench_train::PretrainConfig;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::layout::Layout;
use crate::model_update::ModelUpdateConfig;
use crate::task::TaskConfig;

/// A whole experiment as written in `configs/*.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Run name; results go to `results/<name>/` unless `--out` says otherwise. Default: the file's stem.
    #[serde(default)]
    pub name: String,
    /// Master seed; every random draw derives from it. Default: 0.
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub model: TransformerConfig,
    #[serde(default)]
    pub pretrain: PretrainConfig,
    #[serde(default)]
    pub layout: Layout,
    #[serde(default)]
    pub task: TaskConfig,
    #[serde(default)]
    pub finetune: FinetuneConfig,
    /// Without a `[methods]` table every method (weight and prompt) runs with its defaults.
    #[serde(default)]
    pub methods: MethodsConfig,
    #[serde(default)]
    pub eval: EvalConfig,
    /// The `[search]` table of `adaptbench search`.
    #[serde(default)]
    pub search: SearchConfig,
    /// The `[model_update]` table: also evaluate every adaptation moved onto a base pretrained with another
    /// seed. Absent: no second base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_update: Option<ModelUpdateConfig>,
}

impl ExperimentConfig {
    /// Reads, parses and validates `path`. Every failure is a [`ConfigError`] naming the key.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::from_message(format!("cannot read {}: {error}", path.display())))?;
        let mut config: Self =
            toml::from_str(&text).map_err(|error| ConfigError::from_message(format!("{}: {error}", path.display())))?;
        if config.name.is_empty() {
            config.name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks every table and the constraints between them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        // The name becomes a directory under results/: no separators, and no leading dot (".", "..").
        let allowed = self.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !allowed || self.name.starts_with('.') {
            return Err(ConfigError::new(
                "name",
                format!("{:?}", self.name),
                "letters, digits, '-', '_' and '.', not starting with '.'",
            ));
        }
        self.model.validate("model").map_err(ConfigError::from_message)?;
        self.pretrain.validate("pretrain", self.model.context).map_err(ConfigError::from_message)?;
        self.layout.validate(self.pretrain.seq_len)?;
        self.task.validate()?;
        self.finetune.validate("finetune", self.task.sequences).map_err(ConfigError::from_message)?;
        self.methods.validate("methods", self.layout.prompt_max_len).map_err(ConfigError::from_message)?;
        self.eval.validate("eval", self.model.context).map_err(ConfigError::from_message)?;
        self.search.validate("search").map_err(ConfigError::from_message)?;
        self.model_update.as_ref().map_or(Ok(()), |update| update.validate(self.seed))
    }

    /// The resolved configuration as TOML, every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("an ExperimentConfig always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ExperimentConfig, ConfigError> {
        let config: ExperimentConfig = toml::from_str(text).map_err(ConfigError::from_message)?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn an_empty_file_is_the_documented_defaults() {
        let config = parse("name = \"x\"").unwrap();
        assert_eq!(config.model, TransformerConfig::default());
        assert_eq!(config.pretrain, PretrainConfig::default());
        assert_eq!(config.methods.configured().len(), 7, "every weight and prompt method by default");
    }

    #[test]
    fn a_methods_table_enables_only_the_methods_it_names() {
        let config = parse("name = \"x\"\n[methods.lora]\nr = 2\n[methods.head]").unwrap();
        let names: Vec<&str> = config.methods.configured().iter().map(|m| m.name()).collect();
        assert_eq!(names, ["head", "lora"]);
    }

    #[test]
    fn bad_method_and_eval_values_name_their_keys() {
        for (text, key) in [
            ("[methods.lora]\nr = 0", "methods.lora.r = 0"),
            ("[methods.lora]\ndropout = 0.1", "methods.lora.dropout = 0.1"),
            ("[methods.lora]\ntargets = [\"q\", \"w\"]", "unknown variant `w`"),
            ("[eval]\nalphas = [0.5, 1.2]", "eval.alphas"),
            ("[eval]\nseeds = [1, 1]", "eval.seeds"),
            ("[[eval.ood]]\nname = \"task\"\nsource = { kind = \"bern\", p = 0.5 }", "eval.ood[0].name"),
            ("[[eval.ood]]\nname = \"long\"\nsource = { kind = \"bern\", p = 0.5 }\nlen = 65", "eval.ood[0].len = 65"),
            ("[task]\nsequences = 0", "task.sequences = 0"),
            ("[finetune]\nsteps = 0", "finetune.steps = 0"),
        ] {
            let message = parse(&format!("name = \"x\"\n{text}")).unwrap_err().to_string();
            assert!(message.contains(key), "{text}: {message}");
        }
    }

    #[test]
    fn the_resolved_config_parses_back_to_itself() {
        let config = parse("name = \"x\"\nseed = 3\n[model]\nd_model = 32").unwrap();
        assert_eq!(parse(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn a_name_that_would_escape_the_results_directory_is_rejected() {
        for name in ["..", "a/b", ".hidden"] {
            let message = parse(&format!("name = \"{name}\"")).unwrap_err().to_string();
            assert!(message.contains("name = "), "{message}");
        }
    }

    #[test]
    fn a_model_update_needs_another_seed_and_changes_only_the_seed_of_the_other_base() {
        let message = parse("name = \"x\"\nseed = 4\n[model_update]\nseed = 4").unwrap_err().to_string();
        assert!(message.contains("model_update.seed = 4") && message.contains("top-level seed (4)"), "{message}");
        let message = parse("name = \"x\"\n[model_update]\nsed = 1").unwrap_err().to_string();
        assert!(message.contains("unknown field `sed`"), "{message}");

        let config = parse("name = \"x\"\nseed = 4\n[model_update]\nseed = 9").unwrap();
        let update = config.model_update.clone().unwrap();
        let other = update.other_base_config(&config);
        assert_eq!((other.seed, other.model_update.clone()), (9, None));
        assert_eq!(ExperimentConfig { seed: 4, model_update: config.model_update.clone(), ..other }, config);
        assert_eq!(parse(&config.to_toml()).unwrap(), config, "the table survives config.resolved.toml");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let message = parse("name = \"x\"\n[pretrain]\nstepz = 3").unwrap_err().to_string();
        assert!(message.contains("unknown field `stepz`"), "{message}");
    }

    #[test]
    fn prompt_room_beyond_the_trained_positions_is_rejected() {
        let message = parse("name = \"x\"\n[layout]\nprompt_max_len = 16\ntask_len = 56").unwrap_err().to_string();
        assert!(message.contains("layout.prompt_max_len = 16") && message.contains("0..=8"), "{message}");
    }
}
