//! What a caller sees of a long experiment: progress events and a stop request. The library never prints and
//! never installs signal handlers; the binary shows progress bars and turns Ctrl-C into [`Observer::stop_requested`].

use adaptbench_train::StepReport;

/// Receives progress events and says whether to stop; shared by the cells that run in parallel (`--jobs`). Every method has a default that does nothing, so an
/// observer implements only what it shows; [`Silent`] implements none.
pub trait Observer: Sync {
    /// Pretraining of a base of `steps` steps starts (or resumes).
    fn pretrain_started(&self, _steps: usize) {}
    /// One optimisation step finished.
    fn pretrain_step(&self, _report: &StepReport) {}
    /// Pretraining ended (finished or interrupted).
    fn pretrain_finished(&self) {}
    /// A run of `cells` cells starts.
    fn cells_started(&self, _cells: usize) {}
    /// Cell `label` (e.g. `seed 0: lora`) is being computed or read back.
    fn cell_started(&self, _label: &str) {}
    /// A cell is done (cells may finish in another order than they started).
    fn cell_finished(&self) {}
    /// Every cell is done.
    fn cells_finished(&self) {}
    /// A line worth telling a person (a cache hit, a resumed run, a discarded cache entry).
    fn note(&self, _text: &str) {}
    /// Whether to stop at the next point where the work done so far is saved (a pretraining step, a cell).
    fn stop_requested(&self) -> bool {
        false
    }
}

/// An observer that shows nothing and never stops.
pub struct Silent;

impl Observer for Silent {}
