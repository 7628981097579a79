//! The `[task]` table: the target source and the size of the task data D_N (its length T is
//! `layout.task_len`, so prompts always fit in front of it).

use adaptbench_sources::SourceSpec;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// What the base is adapted to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskConfig {
    /// The task source. Default: `{ kind = "bern", p = 0.7 }`, inside the default pretraining support.
    pub source: SourceSpec,
    /// N, the number of task sequences every method trains on. Default: 64.
    pub sequences: usize,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self { source: SourceSpec::Bern { p: 0.7 }, sequences: 64 }
    }
}

impl TaskConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.source.validate("task.source")?;
        if self.sequences == 0 || self.sequences > 1 << 20 {
            return Err(ConfigError::new("task.sequences", self.sequences, "allowed range 1..=1048576"));
        }
        Ok(())
    }
}
