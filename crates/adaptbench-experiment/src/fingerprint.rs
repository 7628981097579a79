//! Short content hashes that identify what determines a result (a cached base, a finished cell).

use sha2::{Digest, Sha256};

/// SHA-256 over `parts`, each followed by a 0 byte (so `["ab", "c"]` and `["a", "bc"]` differ); the first 16
/// hex digits.
pub fn fingerprint<S: AsRef<str>>(parts: &[S]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_ref().as_bytes());
        hasher.update([0u8]);
    }
    hasher.finalize().iter().take(8).map(|byte| format!("{byte:02x}")).collect()
}
