//! The adaptbench pipeline as a library: everything `adaptbench run`, `pretrain`, `search` and `report` do,
//! callable from code without the command line.
//!
//! - [`ExperimentConfig`] is one TOML config; [`ExperimentConfig::validate`] is the one validation step (every
//!   table's checks and every rule between tables), whose failures are a typed [`ConfigError`] naming the
//!   key, the value and what is allowed. [`Grid`] expands a config's `[sweep]` table and the candidate lists
//!   of its `[methods.*]` tables into points, each validated as a config of its own before any work.
//! - [`Environment`] says where it runs: the backend and device, and the [`BaseCache`] of pretrained bases
//!   (entries checksummed: a corrupt one is reported, discarded and rebuilt).
//! - [`obtain_base`] pretrains a base resumably or restores it from the cache (one process trains, others
//!   wait); [`run_experiment`] runs a grid's cells (every point × seed × method candidate, reusing finished
//!   cells, [`RunOptions`]: `jobs` at once or one [`Shard`]), the WiSE-FT α sweep, the ID/OOD evaluation, the
//!   held-out selection and the model update, and [`assemble`]s the rows, choices and documents;
//!   [`run_search`] runs the prompt-space analysis; [`redraw`] redraws (and for a grid, merges) a finished
//!   directory from its files alone.
//! - An [`Observer`] receives progress and may ask to stop; [`Silent`] shows nothing.
//!
//! # Example
//!
//! A tiny experiment from code (a few seconds on a CPU): pretrain a 1-layer model briefly, adapt it with
//! head-only tuning and a 2-token hard prompt, and read the rows.
//!
//! ```
//! use adaptbench_experiment::{run_experiment, Environment, Grid, RunOptions, Silent};
//! use adaptbench_model::Backend;
//! use adaptbench_report::{Method, Role};
//!
//! let grid = Grid::parse(
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
//! .expect("a valid config");
//!
//! let work = tempfile::tempdir().unwrap();
//! let environment = Environment::new(Backend::Flex, Some(work.path().join("cache")), false).unwrap();
//! let out = work.path().join("results");
//! let options = RunOptions::default();
//! let outcome = run_experiment(&grid, "from-code.toml".as_ref(), &out, &environment, &options, &Silent).unwrap();
//! let rows = outcome.assembled.expect("not sharded").tables.rows;
//!
//! // The base (α = 0 only), head and hard_prompt (α = 0 and 1), on the task and the pretraining mixture.
//! assert_eq!(rows.len(), (1 + 2 + 2) * 2);
//! let id = |method| rows.iter().find(|r| r.method == method && r.alpha == 1.0 && r.role == Role::Id).unwrap();
//! assert!(id(Method::Head).excess_bits.is_finite() && id(Method::HardPrompt).excess_bits.is_finite());
//! assert!(out.join("metrics.csv").is_file() && out.join("choices.csv").is_file() && out.join("report.md").is_file());
//! ```

mod assemble;
mod base;
mod cache;
mod cells;
mod config;
mod cost;
mod documents;
mod environment;
mod error;
mod fingerprint;
mod grid;
mod layout;
mod manifest;
mod model_update;
mod observer;
mod plan;
mod recommend;
mod run;
mod search;
mod selection;
mod task;
mod validate;

pub use assemble::{assemble, read_tables, write_documents, Assembled, PlanFile, Tables, CONFIG_COPY};
pub use base::{base_details, describe_base, obtain_base, read_summary, Base, PretrainSummary, BASE_FILES};
pub use cache::{BaseCache, Lookup};
pub use config::ExperimentConfig;
pub use documents::{redraw, redraw_run, redraw_search, write_grid_documents, write_run_documents, write_search_documents, SearchRows};
pub use environment::Environment;
pub use error::{ConfigError, ExperimentError, Result};
pub use grid::{Grid, GridPoint};
pub use layout::Layout;
pub use manifest::write_manifest;
pub use model_update::ModelUpdateConfig;
pub use observer::{Observer, Silent};
pub use recommend::{recommend_in, RecommendOptions};
pub use run::{run_experiment, RunOptions, RunOutcome, Shard};
pub use search::run_search;
pub use selection::SelectionConfig;
pub use task::TaskConfig;
