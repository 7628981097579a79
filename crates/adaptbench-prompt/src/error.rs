//! Errors of the prompt-space analysis.

/// What can go wrong while configuring or running a prompt search.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// A value outside its allowed range; `key` is its TOML path.
    #[error("{key} = {value} is invalid: {allowed}")]
    InvalidConfig { key: String, value: String, allowed: String },
    /// The neural predictor refused its inputs (e.g. a prompt longer than its context allows).
    #[error(transparent)]
    Infer(#[from] adaptbench_infer::InferError),
}

impl PromptError {
    /// A [`PromptError::InvalidConfig`] for `key`.
    pub fn invalid(key: impl Into<String>, value: impl ToString, allowed: impl Into<String>) -> Self {
        Self::InvalidConfig { key: key.into(), value: value.to_string(), allowed: allowed.into() }
    }
}
