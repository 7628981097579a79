//! Ctrl-C: the first press sets a flag that the long loops poll, so they stop at a point where their state
//! is saved (a pretraining step, a finished cell) and the run can resume.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use anyhow::Context;

/// Installs the handler (once per process) and returns the flag it sets.
pub fn interrupt_flag() -> anyhow::Result<&'static AtomicBool> {
    static FLAG: AtomicBool = AtomicBool::new(false);
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| ctrlc::set_handler(|| FLAG.store(true, Ordering::SeqCst)).map_err(|error| error.to_string()))
        .clone()
        .map_err(anyhow::Error::msg)
        .context("installing the Ctrl-C handler")?;
    Ok(&FLAG)
}

/// Whether Ctrl-C was pressed.
pub fn interrupted(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst)
}
