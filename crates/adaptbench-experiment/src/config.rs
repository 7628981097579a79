//! The experiment configuration: one TOML file, parsed with unknown keys rejected, then validated as a whole
//! (`validate.rs`) before any work starts.

use std::path::Path;

use adaptbench_adapt::{EvalConfig, FinetuneConfig, MethodsConfig};
use adaptbench_model::ModelConfig;
use adaptbench_prompt::SearchConfig;
use adaptbench_train::PretrainConfig;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::layout::Layout;
use crate::model_update::ModelUpdateConfig;
use crate::selection::SelectionConfig;
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
    pub model: ModelConfig,
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
    /// The `[selection]` table: how hyper-parameters and α are chosen on held-out data.
    #[serde(default)]
    pub selection: SelectionConfig,
    /// The `[search]` table of `adaptbench search`.
    #[serde(default)]
    pub search: SearchConfig,
    /// The `[model_update]` table: also evaluate every adaptation moved onto a base pretrained with another
    /// seed. Absent: no second base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_update: Option<ModelUpdateConfig>,
}

impl ExperimentConfig {
    /// Reads, parses and validates `path` ([`ExperimentConfig::validate`]). Every failure is a
    /// [`ConfigError`] naming the key.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::Unreadable { path: path.to_path_buf(), message: error.to_string() })?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
        let config = Self::parse(&text, &stem)
            .map_err(|message| ConfigError::Unreadable { path: path.to_path_buf(), message })?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a config's TOML text without validating it; `default_name` stands in for a missing `name`.
    /// The error is the parser's message (it names the key and the line).
    pub fn parse(text: &str, default_name: &str) -> Result<Self, String> {
        let mut config: Self = toml::from_str(text).map_err(|error| error.to_string())?;
        config.default_name(default_name);
        Ok(config)
    }

    /// As [`ExperimentConfig::parse`], from a parsed TOML table (a grid point, `grid.rs`).
    pub fn from_table(table: toml::Table, default_name: &str) -> Result<Self, String> {
        let mut config: Self = table.try_into().map_err(|error: toml::de::Error| error.to_string())?;
        config.default_name(default_name);
        Ok(config)
    }

    fn default_name(&mut self, default_name: &str) {
        if self.name.is_empty() {
            self.name = default_name.to_string();
        }
    }

    /// The resolved configuration as TOML, every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("an ExperimentConfig always serialises")
    }
}
