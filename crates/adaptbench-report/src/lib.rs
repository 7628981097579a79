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
//! - Prompt search (`adaptbench search`, after arXiv 2502.10760): [`LandscapeRow`] (`landscape.csv`),
//!   [`ReliabilityRow`] (`reliability.csv`, with [`wilson_interval`]) and [`EfficiencyRow`] (`efficiency.csv`);
//!   [`landscape_svg`], [`reliability_svg`] and [`efficiency_svg`] draw them and [`search_report_markdown`]
//!   reports them.
//! - Model updates: [`ModelUpdateRow`] (`model_update.csv`) compares an adaptation on the base it was found
//!   on with the base pretrained with another seed; [`model_update_markdown`] is its section of `report.md`
//!   and [`model_update_svg`] its figure (bars on both bases, ID and OOD), both from one aggregation.

mod aggregate;
mod atomic;
mod efficiency;
mod error;
mod figures;
mod landscape;
mod markdown;
mod metrics;
mod model_update;
mod model_update_figure;
mod model_update_markdown;
mod pretrain;
mod reliability;
mod search_figures;
mod search_markdown;
#[cfg(test)]
mod testing;
mod tidy;
mod transplant;

pub use aggregate::{configurations, ood_sources, student_t_975, Aggregate, AlphaPoint, Configuration, SourceSummary};
pub use efficiency::{efficiency_csv, read_efficiency_csv, EfficiencyRow, PromptKind, EFFICIENCY_HEADER};
pub use error::ReportError;
pub use figures::{interpolation_svg, pretrain_svg};
pub use landscape::{landscape_csv, read_landscape_csv, LandscapeRow, LANDSCAPE_HEADER};
pub use markdown::{report_markdown, ReportContext};
pub use metrics::{metrics_csv, read_metrics_csv, MetricRow, METRICS_HEADER, ROLE_ID, ROLE_OOD};
pub use model_update::{model_update_csv, read_model_update_csv, EvalBase, ModelUpdateRow, MODEL_UPDATE_HEADER};
pub use model_update_figure::model_update_svg;
pub use model_update_markdown::model_update_markdown;
pub use pretrain::{read_pretrain_csv, PretrainPoint, PRETRAIN_HEADER};
pub use reliability::{
    proportion_ci95, read_reliability_csv, reliability_csv, wilson_interval, ReliabilityRow, RELIABILITY_HEADER,
};
pub use search_figures::{efficiency_svg, landscape_svg, reliability_svg, KL_FLOOR_BITS};
pub use search_markdown::{search_report_markdown, SearchReportContext};
