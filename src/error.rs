//! The binary's error kinds: a bad configuration or command line (exit code 2, nothing written) versus a
//! failure while working (exit code 1).

use std::fmt;

/// Bad input: an invalid config value or argument. `main` maps it to exit code 2.
#[derive(Debug)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// `key = value is invalid: allowed`.
    pub fn new(key: &str, value: impl fmt::Display, allowed: impl fmt::Display) -> Self {
        Self { message: format!("{key} = {value} is invalid: {allowed}") }
    }

    /// An error whose message already names the key (from a library crate or the TOML parser).
    pub fn from_message(message: impl fmt::Display) -> Self {
        Self { message: message.to_string() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
