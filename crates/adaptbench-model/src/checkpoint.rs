//! Checkpoints: a directory holding the weights (burnpack) and the resolved model configuration (TOML)
//! beside them, so a checkpoint can always be rebuilt, and loading it into the wrong architecture is a
//! clear error instead of a shape panic.

use std::fs;
use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;

use adaptbench_report::{write_atomically, write_atomically_with};
use crate::config::ModelConfig;
use crate::error::ModelError;
use crate::network::Network;

/// Weights file inside a checkpoint directory.
pub const CHECKPOINT_WEIGHTS_FILE: &str = "model.bpk";
/// Model configuration file inside a checkpoint directory.
pub const CHECKPOINT_CONFIG_FILE: &str = "model.toml";

/// A loaded checkpoint: the model and the configuration it was built from.
pub struct Checkpoint {
    pub model: Network,
    pub config: ModelConfig,
}

/// Saves `model` and its `config` into `dir` (created if needed). Each file is written atomically, weights
/// first, so a directory with a config file always has complete weights.
pub fn save_checkpoint(dir: &Path, model: &Network, config: &ModelConfig) -> Result<(), ModelError> {
    save_weights(model, &dir.join(CHECKPOINT_WEIGHTS_FILE))?;
    let text = toml::to_string(config).map_err(|error| ModelError::Parse {
        path: dir.join(CHECKPOINT_CONFIG_FILE),
        message: error.to_string(),
    })?;
    Ok(write_atomically(&dir.join(CHECKPOINT_CONFIG_FILE), text.as_bytes())?)
}

/// Loads the checkpoint in `dir` onto `device`. With `expected = Some(config)`, a checkpoint built from a
/// different configuration is an error naming both.
pub fn load_checkpoint(
    dir: &Path,
    device: &Device,
    expected: Option<&ModelConfig>,
) -> Result<Checkpoint, ModelError> {
    let config_path = dir.join(CHECKPOINT_CONFIG_FILE);
    let text = fs::read_to_string(&config_path).map_err(|source| ModelError::Io { path: config_path.clone(), source })?;
    let config: ModelConfig =
        toml::from_str(&text).map_err(|error| ModelError::Parse { path: config_path.clone(), message: error.to_string() })?;
    if let Some(expected) = expected.filter(|expected| **expected != config) {
        return Err(ModelError::ConfigMismatch {
            path: dir.to_path_buf(),
            found: format!("{config:?}"),
            expected: format!("{expected:?}"),
        });
    }
    let model = load_weights(config.init(device), &dir.join(CHECKPOINT_WEIGHTS_FILE))?;
    Ok(Checkpoint { model, config })
}

/// Writes `model`'s weights (burnpack, parameter ids included) to `path`, atomically.
pub fn save_weights(model: &Network, path: &Path) -> Result<(), ModelError> {
    Ok(write_atomically_with(path, |temporary| model.clone().save_file(temporary))?)
}

/// Loads the weights at `path` into `model`, which must have the same architecture.
pub fn load_weights(model: Network, path: &Path) -> Result<Network, ModelError> {
    model
        .try_load_file(path)
        .map_err(|error| ModelError::Record { path: path.to_path_buf(), message: error.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Int, Tensor, TensorData};

    fn small() -> ModelConfig {
        ModelConfig { d_model: 16, n_heads: 2, context: 8, ..Default::default() }
    }

    #[test]
    fn a_saved_checkpoint_loads_back_to_identical_outputs() {
        let device = Device::flex();
        let model = small().init_seeded(&device, 11);
        let dir = tempfile::tempdir().unwrap();
        save_checkpoint(dir.path(), &model, &small()).unwrap();
        device.seed(99); // a different init, overwritten by the load
        let loaded = load_checkpoint(dir.path(), &device, Some(&small())).unwrap();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(vec![2i64, 1, 0, 1, 1], [1, 5]), &device);
        let before: Vec<f32> = model.forward(ids.clone()).into_data().try_to_vec::<f32>().unwrap();
        let after: Vec<f32> = loaded.model.forward(ids).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(before, after);
        assert_eq!(loaded.config, small());
    }

    #[test]
    fn loading_into_a_different_configuration_is_a_clear_error() {
        let device = Device::flex();
        let dir = tempfile::tempdir().unwrap();
        save_checkpoint(dir.path(), &small().init(&device), &small()).unwrap();
        let other = ModelConfig { n_layers: 3, ..small() };
        let error = load_checkpoint(dir.path(), &device, Some(&other)).err().unwrap();
        assert!(matches!(error, ModelError::ConfigMismatch { .. }), "{error}");
    }
}
