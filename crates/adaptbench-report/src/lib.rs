//! Results of an adaptbench run, from tidy rows to a report: no burn dependency, so reports and figures can
//! be redrawn from the CSV files alone, in seconds.
//!
//! - One results schema: [`MetricRow`] is a row of `metrics.csv` (one per configuration × seed × α ×
//!   evaluation source), [`PretrainRow`] of `pretrain.csv`, and the search and model-update rows below; the
//!   names they use ([`Method`], [`Role`], [`EvalBase`], [`PromptKind`], [`Predictor`]) are defined once in
//!   `vocabulary.rs`. Every file is written by [`csv_bytes`] and read by [`read_csv`] (csv's serde support,
//!   the header taken from the row type, floats round-tripping exactly), and written to disk by
//!   [`write_atomically`].
//! - [`statistics`](mean_ci95) holds the intervals every crate uses: the normal 95% CI of a mean over
//!   sequences, Student-t across seeds, Wilson for proportions.
//! - [`configurations`] aggregates rows across seeds ([`Aggregate`]: mean ± Student-t 95% CI) into each
//!   configuration's α sweep, with ID and OOD excess and the best α ([`Configuration::best`]).
//! - [`report_markdown`] writes `report.md`: the headline table, a per-source table, a recommendation
//!   derived from the numbers and the definitions behind them.
//! - [`interpolation_svg`] (ID vs OOD excess across α, WiSE-FT) and [`pretrain_svg`] (loss against the
//!   Bayes floor) draw the figures, written atomically.
//! - Prompt search (`adaptbench search`, after arXiv 2502.10760): [`LandscapeRow`] (`landscape.csv`),
//!   [`ReliabilityRow`] (`reliability.csv`, with [`wilson_interval`]) and [`EfficiencyRow`] (`efficiency.csv`);
//!   [`landscape_svg`], [`reliability_svg`] and [`efficiency_svg`] draw them and [`search_report_markdown`]
//!   reports them; [`TaskLengthRow`] (`task_length.csv`) repeats the optimum and reliability at other task
//!   lengths T, drawn by [`task_length_svg`] and reported by [`task_length_markdown`].
//! - Grids and choices: [`PointRow`] (`points.csv`) names each grid point's swept values; [`SelectionRow`]
//!   (`selection.csv`) scores every candidate and α on held-out data only; [`choose`] picks on those rows
//!   (objective `ID + λ·OOD`) and writes [`ChoiceRow`]s (`choices.csv`) with the oracle choice made on the
//!   evaluation data and the regret between them.
//! - Grid figures: [`learning_curves_svg`] (excess against one swept key), [`method_map_svg`] (the winning
//!   method at each grid point, ties marked) and [`pareto_svg`] (ID against OOD excess at each point).
//! - Model updates: [`ModelUpdateRow`] (`model_update.csv`) compares an adaptation on the base it was found
//!   on with the base pretrained with another seed; [`model_update_markdown`] is its section of `report.md`
//!   and [`model_update_svg`] its figure (bars on both bases, ID and OOD), both from one aggregation.

mod aggregate;
mod atomic;
mod efficiency;
mod error;
mod figures;
mod grid_figures;
mod landscape;
mod markdown;
mod metrics;
mod model_update;
mod model_update_figure;
mod model_update_markdown;
mod point;
mod pretrain;
mod recommend;
mod recommend_markdown;
mod grid_markdown;
mod reliability;
mod search_appendix;
mod search_figures;
mod search_markdown;
mod selection;
mod statistics;
mod task_length;
#[cfg(test)]
mod testing;
mod tidy;
mod transplant;
mod vocabulary;

pub use aggregate::{configurations, ood_sources, Aggregate, AlphaPoint, Configuration, SourceSummary};
pub use atomic::{write_atomically, write_atomically_with};
pub use efficiency::EfficiencyRow;
pub use error::ReportError;
pub use figures::{interpolation_svg, pretrain_svg};
pub use grid_figures::{learning_curves_svg, method_map_svg, pareto_svg};
pub use landscape::LandscapeRow;
pub use markdown::{report_markdown, ReportContext};
pub use metrics::MetricRow;
pub use model_update::ModelUpdateRow;
pub use model_update_figure::model_update_svg;
pub use model_update_markdown::model_update_markdown;
pub use point::{point_labels, PointRow};
pub use pretrain::PretrainRow;
pub use recommend::{method_summaries, recommend, MethodSummary, Recommendation, Tie};
pub use recommend_markdown::{choices_markdown, recommend_markdown, replace_recommendation};
pub use grid_markdown::{grid_report_markdown, GridReportContext};
pub use reliability::ReliabilityRow;
pub use search_appendix::{search_appendix_markdown, HalvingRow, LocalSearchRow, SearchAppendixSettings};
pub use search_figures::{efficiency_svg, landscape_svg, reliability_svg, task_length_svg, KL_FLOOR_BITS};
pub use task_length::{task_length_markdown, TaskLengthRow};
pub use search_markdown::{search_report_markdown, SearchReportContext};
pub use selection::{choose, mark_selected, objective, ChoiceRow, Constraints, SelectionRow};
pub use statistics::{mean, mean_ci95, normal_ci95, proportion_ci95, sample_variance, student_t_975, wilson_interval};
pub use tidy::{csv_bytes, csv_bytes_with_columns, header, read_csv};
pub use vocabulary::{EvalBase, Method, Predictor, PromptKind, Role};
