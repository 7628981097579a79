//! The run-time choice of burn backend (`--backend`): burn 0.22 picks the backend through the `Device`, so
//! the same model code runs on the embedded CPU backend or, when compiled with the `wgpu` feature, on a GPU.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use crate::error::ModelError;

/// A compute backend the binary can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// burn-flex, the pure-Rust CPU backend: the embedded default.
    Flex,
    /// burn-wgpu on the best GPU adapter wgpu finds (needs the `wgpu` cargo feature).
    Wgpu,
}

impl Backend {
    /// The device for inference on this backend, without autodiff; call `.autodiff()` on it for training.
    pub fn device(self) -> Result<Device, ModelError> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => Err(ModelError::BackendUnavailable(
                "wgpu".into(),
                "rebuild with `cargo build --release --features wgpu`".into(),
            )),
        }
    }
}

impl FromStr for Backend {
    type Err = ModelError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "flex" | "cpu" => Ok(Backend::Flex),
            "wgpu" | "gpu" => Ok(Backend::Wgpu),
            "ndarray" => Err(ModelError::BackendUnavailable(
                "ndarray".into(),
                "burn-flex replaced it as the CPU backend (faster to build and to run, see README); use `flex`".into(),
            )),
            other => Err(ModelError::InvalidConfig {
                key: "--backend".into(),
                value: other.into(),
                allowed: "one of flex (alias cpu), wgpu (alias gpu)".into(),
            }),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Flex => "flex",
            Backend::Wgpu => "wgpu",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_round_trip_and_unknown_names_list_the_choices() {
        for backend in [Backend::Flex, Backend::Wgpu] {
            assert_eq!(backend.to_string().parse::<Backend>().unwrap(), backend);
        }
        let message = "tpu".parse::<Backend>().unwrap_err().to_string();
        assert!(message.contains("--backend = tpu") && message.contains("flex"), "{message}");
    }
}
