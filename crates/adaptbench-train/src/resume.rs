//! Resumable pretraining. At every evaluation and on interruption the loop saves its state — weights, AdamW
//! moments, the rows logged so far, the running loss — so that a re-run continues where it stopped and
//! produces exactly the numbers an uninterrupted run would have.
//!
//! Crash consistency: weights and optimizer files are named by step and written first; `state.json`, which
//! names the step, is replaced atomically last, and only then are older step files removed. Whatever moment
//! a crash hits, `state.json` points at complete files.

use std::fs;
use std::path::{Path, PathBuf};

use adaptbench_model::ModelError;
use adaptbench_report::write_atomically;
use serde::{Deserialize, Serialize};

use crate::pretrain::PretrainRow;
use crate::trainer::Trainer;

/// The loop's position, saved beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Progress {
    /// Identifies the run (model, pretraining settings, seed, backend); state of another run is ignored.
    pub fingerprint: String,
    /// Steps finished.
    pub step: usize,
    pub rows: Vec<PretrainRow>,
    /// Running sum and count of training losses since the last row.
    pub loss_sum: f64,
    pub loss_count: usize,
    /// Optimisation and wall seconds spent by earlier sessions of this run.
    pub train_seconds: f64,
    pub wall_seconds: f64,
}

/// A directory holding the resumable state of one pretraining run.
#[derive(Debug, Clone)]
pub struct ResumePoint {
    dir: PathBuf,
    fingerprint: String,
}

const STATE_FILE: &str = "state.json";

impl ResumePoint {
    /// State of the run identified by `fingerprint` lives in `dir`.
    pub fn new(dir: impl Into<PathBuf>, fingerprint: impl Into<String>) -> Self {
        Self { dir: dir.into(), fingerprint: fingerprint.into() }
    }

    /// Removes the saved state (after a run finished).
    pub fn clear(&self) -> Result<(), ModelError> {
        match fs::remove_dir_all(&self.dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(ModelError::Io { path: self.dir.clone(), source: error })
            }
            _ => Ok(()),
        }
    }

    /// Saves `trainer` and `progress` (stamped with this run's fingerprint).
    pub(crate) fn save(&self, trainer: &Trainer, progress: &Progress) -> Result<(), ModelError> {
        let (weights, optimizer) = self.files(progress.step);
        trainer.save(&weights, &optimizer)?;
        let stamped = Progress { fingerprint: self.fingerprint.clone(), ..progress.clone() };
        let json = serde_json::to_string_pretty(&stamped).expect("progress serialises");
        write_atomically(&self.dir.join(STATE_FILE), json.as_bytes())?;
        self.remove_files_except(progress.step)
    }

    /// The saved progress of this run with `trainer` restored to it, or `None` (and `trainer` untouched)
    /// when there is no state or it belongs to another run.
    pub(crate) fn load(&self, trainer: Trainer) -> Result<(Trainer, Option<Progress>), ModelError> {
        let path = self.dir.join(STATE_FILE);
        let Ok(text) = fs::read_to_string(&path) else {
            return Ok((trainer, None));
        };
        let progress: Progress = serde_json::from_str(&text)
            .map_err(|error| ModelError::Parse { path: path.clone(), message: error.to_string() })?;
        if progress.fingerprint != self.fingerprint {
            return Ok((trainer, None));
        }
        let (weights, optimizer) = self.files(progress.step);
        Ok((trainer.load(&weights, &optimizer)?, Some(progress)))
    }

    fn files(&self, step: usize) -> (PathBuf, PathBuf) {
        (self.dir.join(format!("weights-{step}.bpk")), self.dir.join(format!("optimizer-{step}.bpk")))
    }

    fn remove_files_except(&self, step: usize) -> Result<(), ModelError> {
        let keep = self.files(step);
        let entries = fs::read_dir(&self.dir).map_err(|source| ModelError::Io { path: self.dir.clone(), source })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let stale = path.extension().is_some_and(|ext| ext == "bpk") && path != keep.0 && path != keep.1;
            if stale {
                fs::remove_file(&path).map_err(|source| ModelError::Io { path: path.clone(), source })?;
            }
        }
        Ok(())
    }

    /// The directory, for messages.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_progress_reads_back_bit_for_bit_for_any_float() {
        // serde_json parses floats exactly only with its `float_roundtrip` feature; without it some values
        // came back one ulp off and a resumed run differed from an uninterrupted one (issue 10).
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let value = f64::from_bits(state);
            if value.is_finite() { value } else { 0.5 }
        };
        let rows: Vec<PretrainRow> = (0..20_000)
            .map(|step| PretrainRow {
                step,
                train_loss_bits: next(),
                eval_loss_bits: next(),
                bayes_loss_bits: next(),
                excess_bits: next(),
            })
            .collect();
        let progress = Progress {
            fingerprint: "f".into(),
            step: 7,
            rows,
            loss_sum: next(),
            loss_count: 3,
            train_seconds: next(),
            wall_seconds: next(),
        };
        let json = serde_json::to_string_pretty(&progress).unwrap();
        let read: Progress = serde_json::from_str(&json).unwrap();
        let bits = |p: &Progress| -> Vec<u64> {
            p.rows
                .iter()
                .flat_map(|r| [r.train_loss_bits, r.eval_loss_bits, r.bayes_loss_bits, r.excess_bits])
                .chain([p.loss_sum, p.train_seconds, p.wall_seconds])
                .map(f64::to_bits)
                .collect()
        };
        assert_eq!(bits(&read), bits(&progress));
    }
}
