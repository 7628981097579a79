//! The sequence layout adapted models will see: `BOS, prompt (≤ prompt_max_len tokens), task tokens`.
//! Pretraining must cover every position that layout uses, or prompted task tokens would sit at positions
//! the model never trained on (DESIGN.md §4).

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// The `[layout]` table: room reserved for prompts before the task tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Layout {
    /// Longest prompt any method may use, in tokens. Default: 8.
    pub prompt_max_len: usize,
    /// Task tokens per sequence, T. Default: 56.
    pub task_len: usize,
}

impl Default for Layout {
    fn default() -> Self {
        Self { prompt_max_len: 8, task_len: 56 }
    }
}

impl Layout {
    /// Positions the longest prompted task sequence occupies: the model reads BOS, the prompt and the first
    /// T − 1 task tokens, `prompt_max_len + task_len` positions in all.
    pub fn positions(&self) -> usize {
        self.prompt_max_len + self.task_len
    }

    /// Checks that the layout fits the positions pretraining covers (`pretrain.seq_len`).
    pub fn validate(&self, pretrain_seq_len: usize) -> Result<(), ConfigError> {
        if self.task_len == 0 {
            return Err(ConfigError::new("layout.task_len", 0, "allowed range 1.."));
        }
        if self.positions() > pretrain_seq_len {
            return Err(ConfigError::new(
                "layout.prompt_max_len",
                self.prompt_max_len,
                format!(
                    "prompt room exceeds the trained context: layout.prompt_max_len + layout.task_len = {} + {} = {} \
                     but pretrain.seq_len = {pretrain_seq_len}; allowed range for layout.prompt_max_len: 0..={}",
                    self.prompt_max_len,
                    self.task_len,
                    self.positions(),
                    pretrain_seq_len.saturating_sub(self.task_len)
                ),
            ));
        }
        Ok(())
    }
}
