//! The pretraining loop: fresh batches from the meta-distribution, AdamW under a warm-up + cosine schedule,
//! global-norm clipping, periodic evaluation on a fixed held-out set against the exact Bayes floor, and
//! resumable state at every evaluation.

use std::ops::ControlFlow;
use std::time::Instant;

use adaptbench_model::{ModelError, Network, ModelConfig};
use adaptbench_sources::{derive_seed, rng, Source};
use burn::module::Module;
use burn::tensor::Device;

use crate::batch::{sample_sequences, Batch};
use crate::config::PretrainConfig;
use crate::evaluate::{Evaluation, HeldOut};
use crate::resume::{Progress, ResumePoint};
use crate::trainer::Trainer;

/// What the loop reports after every step (for progress bars and logs).
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// 1-based count of finished steps.
    pub step: usize,
    pub steps: usize,
    pub train_loss_bits: f64,
    pub lr: f64,
    /// The latest held-out evaluation, if any has run yet.
    pub last_eval: Option<Evaluation>,
}

/// One row of `pretrain.csv`, written at every evaluation (the results schema's row type).
pub use adaptbench_report::PretrainRow;

/// The trained model and its record.
pub struct PretrainOutcome {
    /// The trained weights, on the inference (non-autodiff) device.
    pub model: Network,
    pub rows: Vec<PretrainRow>,
    pub final_eval: Evaluation,
    /// Wall time of the optimisation steps alone (evaluations excluded), over all sessions of the run.
    pub train_seconds: f64,
    /// Total wall time including evaluations, over all sessions of the run.
    pub wall_seconds: f64,
    /// The step this session started from (0 unless resumed).
    pub resumed_from: usize,
}

/// How a call to [`pretrain`] ended.
pub enum PretrainEnd {
    Finished(PretrainOutcome),
    /// `on_step` asked to stop after `step`; the state at that step is saved if a resume point was given.
    Interrupted { step: usize },
}

/// Pretrains a fresh model of `model_config` on `source`, or continues the run saved at `resume`.
///
/// Every random draw derives from `seed`: model init (`pretrain/init`), training batches (`pretrain/data`)
/// and the held-out set (`pretrain/eval`), so the same seed gives the same numbers on the CPU backend —
/// across interruptions too: a resumed run replays the data stream to its step. `device` is an inference
/// device; training runs on its autodiff twin. `on_step` returning `Break` stops the loop after saving.
pub fn pretrain(
    model_config: &ModelConfig,
    config: &PretrainConfig,
    source: &dyn Source,
    seed: u64,
    device: &Device,
    resume: Option<&ResumePoint>,
    on_step: &mut dyn FnMut(&StepReport) -> ControlFlow<()>,
) -> Result<PretrainEnd, ModelError> {
    let started = Instant::now();
    let train_device = device.clone().autodiff();
    let mut trainer =
        Trainer::new(model_config.init_seeded(&train_device, derive_seed(seed, "pretrain/init")), &config.optimizer());
    let mut progress = Progress {
        fingerprint: String::new(),
        step: 0,
        rows: Vec::new(),
        loss_sum: 0.0,
        loss_count: 0,
        train_seconds: 0.0,
        wall_seconds: 0.0,
    };
    if let Some(point) = resume {
        let (restored, saved) = point.load(trainer)?;
        trainer = restored;
        progress = saved.unwrap_or(progress);
    }
    let resumed_from = progress.step;
    let mut data_rng = rng(derive_seed(seed, "pretrain/data"));
    for _ in 0..resumed_from {
        sample_sequences(source, &mut data_rng, config.batch_size, config.seq_len);
    }
    let held_out =
        HeldOut::draw(source, &mut rng(derive_seed(seed, "pretrain/eval")), config.eval_sequences, config.seq_len);
    let schedule = config.schedule();
    let mut last_eval = None;

    // Wall time of earlier sessions plus this one's so far.
    let save = |trainer: &Trainer, progress: &Progress| -> Result<(), ModelError> {
        let Some(point) = resume else { return Ok(()) };
        let wall_seconds = progress.wall_seconds + started.elapsed().as_secs_f64();
        point.save(trainer, &Progress { wall_seconds, ..progress.clone() })
    };

    for step in resumed_from..config.steps {
        let step_started = Instant::now();
        let sequences = sample_sequences(source, &mut data_rng, config.batch_size, config.seq_len);
        let lr = schedule.at(step);
        let loss_bits = trainer.step(Batch::new(&sequences, &train_device), lr);
        progress.train_seconds += step_started.elapsed().as_secs_f64();
        progress.loss_sum += loss_bits;
        progress.loss_count += 1;
        progress.step = step + 1;

        let at_eval = progress.step.is_multiple_of(config.eval_every) || progress.step == config.steps;
        if at_eval {
            let evaluation = held_out.evaluate(&trainer.model().valid(), config.eval_batch_size, device);
            progress.rows.push(PretrainRow {
                step: progress.step,
                train_loss_bits: progress.loss_sum / progress.loss_count as f64,
                eval_loss_bits: evaluation.loss_bits,
                bayes_loss_bits: evaluation.bayes_bits,
                excess_bits: evaluation.excess_bits,
            });
            (progress.loss_sum, progress.loss_count) = (0.0, 0);
            last_eval = Some(evaluation);
            if progress.step < config.steps {
                save(&trainer, &progress)?;
            }
        }
        let report = StepReport { step: progress.step, steps: config.steps, train_loss_bits: loss_bits, lr, last_eval };
        if on_step(&report).is_break() && progress.step < config.steps {
            if !at_eval {
                save(&trainer, &progress)?; // an evaluation step has just been saved
            }
            return Ok(PretrainEnd::Interrupted { step: progress.step });
        }
    }

    let model = trainer.into_model().valid();
    let final_eval = match last_eval {
        Some(evaluation) => evaluation,
        None => held_out.evaluate(&model, config.eval_batch_size, device),
    };
    Ok(PretrainEnd::Finished(PretrainOutcome {
        model,
        rows: progress.rows,
        final_eval,
        train_seconds: progress.train_seconds,
        wall_seconds: progress.wall_seconds + started.elapsed().as_secs_f64(),
        resumed_from,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use adaptbench_sources::SourceSpec;

    fn tiny() -> (ModelConfig, PretrainConfig) {
        let model = ModelConfig { d_model: 16, n_layers: 1, n_heads: 2, context: 16, ..Default::default() };
        let pretrain = PretrainConfig {
            steps: 30,
            batch_size: 8,
            seq_len: 16,
            warmup_steps: 3,
            eval_every: 10,
            eval_sequences: 32,
            eval_batch_size: 32,
            ..Default::default()
        };
        (model, pretrain)
    }

    fn run(resume: Option<&ResumePoint>, stop_after: Option<usize>) -> PretrainEnd {
        run_model(&tiny().0, resume, stop_after)
    }

    fn run_model(model: &ModelConfig, resume: Option<&ResumePoint>, stop_after: Option<usize>) -> PretrainEnd {
        let config = tiny().1;
        let source = SourceSpec::Mix { thetas: vec![0.2, 0.7], weights: vec![0.5, 0.5] }.build().unwrap();
        let mut on_step = |report: &StepReport| {
            if Some(report.step) == stop_after { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        };
        pretrain(model, &config, source.as_ref(), 9, &Device::flex(), resume, &mut on_step).unwrap()
    }

    fn finished(end: PretrainEnd) -> PretrainOutcome {
        match end {
            PretrainEnd::Finished(outcome) => outcome,
            PretrainEnd::Interrupted { step } => panic!("interrupted at {step}"),
        }
    }

    #[test]
    fn an_interrupted_run_resumes_to_exactly_the_uninterrupted_numbers() {
        let reference = finished(run(None, None));
        // Stop off an evaluation boundary (step 14: mid-way through the running loss of rows 20) and at one.
        for stop in [14, 20] {
            let dir = tempfile::tempdir().unwrap();
            let point = ResumePoint::new(dir.path(), "run-a");
            assert!(matches!(run(Some(&point), Some(stop)), PretrainEnd::Interrupted { step } if step == stop));
            let resumed = finished(run(Some(&point), None));
            assert_eq!(resumed.resumed_from, stop);
            assert_eq!(resumed.rows, reference.rows, "stopped at {stop}");
        }
    }

    #[test]
    fn an_lstm_pretrains_to_the_same_numbers_twice_and_after_an_interruption() {
        let lstm = ModelConfig { arch: adaptbench_model::Arch::Lstm, d_model: 16, n_layers: 2, context: 16, ..Default::default() };
        let reference = finished(run_model(&lstm, None, None));
        assert_eq!(finished(run_model(&lstm, None, None)).rows, reference.rows);
        let dir = tempfile::tempdir().unwrap();
        let point = ResumePoint::new(dir.path(), "lstm");
        assert!(matches!(run_model(&lstm, Some(&point), Some(14)), PretrainEnd::Interrupted { step: 14 }));
        assert_eq!(finished(run_model(&lstm, Some(&point), None)).rows, reference.rows);
    }

    #[test]
    fn state_of_another_run_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        run(Some(&ResumePoint::new(dir.path(), "run-a")), Some(14));
        let fresh = finished(run(Some(&ResumePoint::new(dir.path(), "run-b")), None));
        assert_eq!(fresh.resumed_from, 0);
        assert_eq!(fresh.rows, finished(run(None, None)).rows);
    }
}
