//! The adaptbench pipeline as a library: everything `adaptbench run`, `pretrain`, `search` and `report` do,
//! callable from code without the command line.
//!
//! - [`ExperimentConfig`] is one TOML config; [`ExperimentConfig::load`] parses it and runs the one
//!   validation step ([`ExperimentConfig::validate`]: every table's checks and every rule between tables),
//!   whose failures are a typed [`ConfigError`] naming the key, the value and what is allowed.
//! - [`Environment`] says where it runs: the backend and device, and the [`BaseCache`] of pretrained bases
//!   (entries checksummed: a corrupt one is reported, discarded and rebuilt).
//! - [`obtain_base`] pretrains a base resumably or restores it from the cache; [`run_experiment`] runs the
//!   cells (every method × seed, reusing finished cells), the WiSE-FT α sweep, the ID/OOD evaluation and the
//!   model update, and writes the rows and documents; [`run_search`] runs the prompt-space analysis;
//!   [`redraw`] redraws the documents of a finished run or search directory from its CSVs alone.
//! - An [`Observer`] receives progress and may ask to stop; [`Silent`] shows nothing.
//!
//! # Example
//!
//! A tiny experiment from code (a few seconds on a CPU): pretrain a 1-layer model briefly, adapt it with
//! head-only tuning and a 2-token hard prompt, and read the rows.
//!
//! ```
//! use adaptbench_experiment::{run_experiment, Environment, ExperimentConfig, Silent};
//! use adaptbench_model::Backend;
//! use adaptbench_report::{Method, Role};
//!
//! let config = ExperimentConfig::parse(
//!     r#"
//!     [model]
//!     d_model = 16
//!     n_layers = 1
//!     n_heads = 2
//!     context = 16
//!     [pretrain]
//!     steps = 20
//!     batch_size = 8
//!     seq_len = 16
//!     warmup_steps = 2
//!     eval_every = 10
//!     eval_sequences = 32
//!     [layout]
//!     prompt_max_len = 2
//!     task_len = 12
//!     [task]
//!     sequences = 8
//!     [finetune]
//!     steps = 5
//!     warmup_steps = 1
//!     batch_size = 4
//!     validation_fraction = 0.0
//!     [methods.head]
//!     [methods.hard_prompt]
//!     [eval]
//!     seeds = [0]
//!     sequences = 16
//!     alphas = [0.0, 1.0]
//!     "#,
//!     "from-code",
//! )
//! .expect("TOML of the config's shape");
//! config.validate().expect("a valid config");
//!
//! let work = tempfile::tempdir().unwrap();
//! let environment = Environment::new(Backend::Flex, Some(work.path().join("cache")), false).unwrap();
//! let out = work.path().join("results");
//! let outcome = run_experiment(&config, "from-code.toml".as_ref(), &out, &environment, &Silent).unwrap();
//!
//! // The base (α = 0 only), head and hard_prompt (α = 0 and 1), on the task and the pretraining mixture.
//! assert_eq!(outcome.rows.len(), (1 + 2 + 2) * 2);
//! let id = |method| outcome.rows.iter().find(|r| r.method == method && r.alpha == 1.0 && r.role == Role::Id).unwrap();
//! assert!(id(Method::Head).excess_bits.is_finite() && id(Method::HardPrompt).excess_bits.is_finite());
//! assert!(out.join("metrics.csv").is_file() && out.join("report.md").is_file());
//! ```

mod base;
mod cache;
mod cells;
mod config;
mod documents;
mod environment;
mod error;
mod fingerprint;
mod layout;
mod manifest;
mod model_update;
mod observer;
mod run;
mod search;
mod task;
mod validate;

pub use base::{base_details, describe_base, obtain_base, read_summary, Base, PretrainSummary, BASE_FILES};
pub use cache::{BaseCache, Lookup};
pub use config::ExperimentConfig;
pub use documents::{redraw, redraw_run, redraw_search, write_run_documents, write_search_documents, SearchRows};
pub use manifest::write_manifest;
pub use environment::Environment;
pub use error::{ConfigError, ExperimentError, Result};
pub use layout::Layout;
pub use model_update::ModelUpdateConfig;
pub use observer::{Observer, Silent};
pub use run::{run_experiment, RunOutcome};
pub use search::run_search;
pub use task::TaskConfig;
