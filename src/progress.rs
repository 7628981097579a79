//! What a person sees of a long experiment: indicatif progress bars for pretraining and the cells, notes on
//! stderr, and Ctrl-C as a stop request. `--quiet` hides the bars and the notes (errors still reach stderr).

use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use adaptbench_experiment::Observer;
use adaptbench_train::StepReport;
use indicatif::{ProgressBar, ProgressStyle};

use crate::interrupt::interrupted;

/// The binary's [`Observer`].
pub struct Terminal {
    quiet: bool,
    stop: &'static AtomicBool,
    bar: Mutex<ProgressBar>,
}

impl Terminal {
    /// Bars and notes unless `quiet`; `stop` is the Ctrl-C flag.
    pub fn new(quiet: bool, stop: &'static AtomicBool) -> Self {
        Self { quiet, stop, bar: Mutex::new(ProgressBar::hidden()) }
    }

    fn start(&self, len: usize, stage: &str) {
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            let style = ProgressStyle::with_template("{prefix:>9} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
                .expect("a valid progress template");
            let bar = ProgressBar::new(len as u64).with_style(style);
            bar.set_prefix(stage.to_string());
            bar
        };
        *self.bar.lock().expect("the bar lock is never poisoned") = bar;
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        f(&self.bar.lock().expect("the bar lock is never poisoned"));
    }
}

impl Observer for Terminal {
    fn pretrain_started(&self, steps: usize) {
        self.start(steps, "pretrain");
    }

    fn pretrain_step(&self, report: &StepReport) {
        self.with_bar(|bar| {
            bar.set_position(report.step as u64);
            let eval = report
                .last_eval
                .map(|e| format!(" | held-out excess {:+.4} bits", e.excess_bits))
                .unwrap_or_default();
            bar.set_message(format!("loss {:.4} bits/token{eval}", report.train_loss_bits));
        });
    }

    fn pretrain_finished(&self) {
        self.with_bar(ProgressBar::finish_and_clear);
    }

    fn cells_started(&self, cells: usize) {
        self.start(cells, "adapt");
    }

    fn cell_started(&self, label: &str) {
        self.with_bar(|bar| bar.set_message(label.to_string()));
    }

    fn cell_finished(&self) {
        self.with_bar(|bar| bar.inc(1));
    }

    fn cells_finished(&self) {
        self.with_bar(ProgressBar::finish_and_clear);
    }

    fn note(&self, text: &str) {
        if !self.quiet {
            self.with_bar(|bar| bar.suspend(|| eprintln!("{text}")));
        }
    }

    fn stop_requested(&self) -> bool {
        interrupted(self.stop)
    }
}
