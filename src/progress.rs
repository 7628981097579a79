//! Progress bars for long stages (indicatif), silenced by `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps titled `stage`, or a hidden one when `quiet`.
pub fn bar(len: u64, stage: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{prefix:>9} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
        .expect("a valid progress template");
    bar.set_style(style);
    bar.set_prefix(stage.to_string());
    bar
}
