//! Results of an adaptbench run, from tidy rows to a report: no burn dependency, so reports and figures can
//! be redrawn from the CSV files alone, in seconds.
//!
//! - [`MetricRow`] is a row of `metrics.csv` (one per configuration × seed × α × evaluation source), written
//!   by [`metrics_csv`] and read by [`read_metrics_csv`]; [`PretrainPoint`] is a row of `pretrain.csv`.
//! - [`configurations`] aggregates rows across seeds ([`Aggregate`]: mean ± Student-t 95% CI) into each
//!   configuration's α sweep, with ID and OOD excess and the best α ([`Configuration::best`]).
//! - [`report_markdown`] writes `report.md`: the headline table, a per-source table, a recommendation
//!   derived from the numbers and the definitions behind them.
//! - [`interpolation_svg`] (ID vs OOD excess across α, WiSE-FT) and [`pretrain_svg`] (loss against the
//!   Bayes floor) draw the figures, written atomically.

mod aggregate;
mod atomic;
mod error;
mod figures;
mod markdown;
mod metrics;
mod pretrain;
#[cfg(test)]
mod testing;
mod tidy;

pub use aggregate::{configurations, ood_sources, student_t_975, Aggregate, AlphaPoint, Configuration, SourceSummary};
pub use error::ReportError;
pub use figures::{interpolation_svg, pretrain_svg};
pub use markdown::{report_markdown, ReportContext};
pub use metrics::{metrics_csv, read_metrics_csv, MetricRow, METRICS_HEADER, ROLE_ID, ROLE_OOD};
pub use pretrain::{read_pretrain_csv, PretrainPoint, PRETRAIN_HEADER};
