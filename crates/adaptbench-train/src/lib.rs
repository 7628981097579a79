//! Training and evaluation of the neural predictor against the exact Bayes floor: batches drawn fresh from a
//! source, the next-bit log-loss in bits, AdamW with warm-up + cosine decay and global-norm clipping, and
//! evaluation on a fixed held-out set whose Bayes-optimal loss is computed exactly, and bit-exact resumption
//! of interrupted runs.

mod batch;
mod calibration;
mod clip;
mod config;
mod data_parallel;
mod error;
mod evaluate;
mod loss;
mod pretrain;
mod resume;
mod schedule;
mod trainer;

pub use batch::{sample_sequences, Batch};
pub use calibration::{Calibration, ECE_BINS};
pub use clip::clip_global_norm;
pub use config::PretrainConfig;
pub use error::TrainError;
pub use evaluate::{mean_loss_bits, Evaluation, HeldOut};
pub use loss::{next_bit_log_probs, next_bit_loss_nats};
pub use pretrain::{pretrain, PretrainEnd, PretrainOutcome, PretrainRow, StepReport};
pub use resume::ResumePoint;
pub use schedule::WarmupCosine;
pub use trainer::{OptimizerSettings, Trainer};
