//! `manifest.json`: what produced a results directory — versions, git revision, seeds, backend, timings.

use std::path::Path;
use std::process::Command;

use adaptbench_report::write_atomically;
use serde_json::{json, Value};

use crate::error::Result;

/// The manifest's fixed part; commands add their own fields under `details`.
fn manifest(command: &str, config_path: &Path, seed: u64, details: Value) -> Value {
    json!({
        "adaptbench_version": env!("CARGO_PKG_VERSION"),
        "burn_version": "0.22.1",
        "git_revision": git_revision(),
        "command": command,
        "config_file": config_path.display().to_string(),
        "seed": seed,
        "created_unix_seconds": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        "details": details,
    })
}

/// Writes the manifest of `command` to `path`, atomically.
pub fn write_manifest(path: &Path, command: &str, config_path: &Path, seed: u64, details: Value) -> Result<()> {
    let text = serde_json::to_string_pretty(&manifest(command, config_path, seed, details)).expect("JSON serialises");
    write_atomically(path, text.as_bytes())?;
    Ok(())
}

/// The checkout's `git describe --always --dirty`, or "unknown" outside a git checkout.
fn git_revision() -> String {
    Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
