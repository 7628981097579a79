//! Aggregation across seeds: Student-t confidence intervals, each configuration's α sweep with its ID and
//! OOD excess, and the best α.

use crate::metrics::MetricRow;
use crate::statistics::{mean, student_t_975};
use crate::vocabulary::{Method, Role};

/// A mean across seeds with the half-width of its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    pub mean: f64,
    /// Half-width of the 95% CI: across seeds for n ≥ 2, within the single seed for n = 1.
    pub ci95: f64,
    /// Number of seeds.
    pub n: usize,
}

impl Aggregate {
    /// The mean x̄ of `values` (one per seed) and ci95 = t_{0.975, n−1} · s / √n, with the sample standard
    /// deviation s = √(Σ (x − x̄)² / (n − 1)). For a single seed there is no spread across seeds, so ci95 is
    /// `single_seed_ci95`, that seed's own CI over evaluation sequences, which the caller passes. `None` for
    /// no values.
    pub fn across_seeds(values: &[f64], single_seed_ci95: f64) -> Option<Self> {
        let n = values.len();
        let mean = (!values.is_empty()).then(|| mean(values))?;
        let ci95 = if n == 1 {
            single_seed_ci95
        } else {
            let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            student_t_975(n - 1) * (variance / n as f64).sqrt()
        };
        Some(Self { mean, ci95, n })
    }
}

/// One evaluation source of one configuration at one α, aggregated over seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSummary {
    pub eval_source: String,
    /// Excess loss, bits per token; the single-seed CI is the row's paired `excess_ci95`.
    pub excess: Aggregate,
    /// Loss, bits per token; the single-seed CI is the row's `loss_ci95`.
    pub loss: Aggregate,
    /// Seed mean of the next-bit accuracy (no CI: metrics.csv records none within a seed).
    pub accuracy: f64,
    /// Seed mean of the expected calibration error (no CI, as for accuracy).
    pub ece: f64,
}

/// One α of a configuration's interpolation sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct AlphaPoint {
    pub alpha: f64,
    /// The in-distribution (task) evaluation.
    pub id: SourceSummary,
    /// The OOD sources, in order of first appearance in the rows.
    pub ood: Vec<SourceSummary>,
    /// "OOD excess": per seed the mean excess over that seed's OOD sources, then aggregated over seeds. For a
    /// single seed the CI combines the K sources' paired CIs as independent: √(Σ_k ci_k²) / K. `None` when no
    /// OOD source was evaluated.
    pub ood_excess: Option<Aggregate>,
}

impl AlphaPoint {
    /// The best-α criterion ½·(ID excess + OOD excess) of the seed means, bits per token: the α that loses
    /// least on the task and out of distribution together, weighted equally. ID excess alone when no OOD
    /// source was evaluated.
    pub fn criterion(&self) -> f64 {
        match self.ood_excess {
            Some(ood) => 0.5 * (self.id.excess.mean + ood.mean),
            None => self.id.excess.mean,
        }
    }
}

/// A configuration (method + hyper-parameters) across seeds and its α sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub method: Method,
    pub params: String,
    /// From the configuration's first row (the count does not depend on the seed).
    pub trainable_params: u64,
    /// From the configuration's first row.
    pub prompt_tokens: u64,
    /// Optimisation steps actually run, mean over seeds.
    pub steps: f64,
    /// Adaptation wall time in seconds, mean over seeds.
    pub adapt_seconds: f64,
    /// The seeds, in order of first appearance.
    pub seeds: Vec<u64>,
    /// The sweep in increasing α; never empty.
    pub points: Vec<AlphaPoint>,
}

impl Configuration {
    /// Whether this is the unadapted base (`method = none`).
    pub fn is_base(&self) -> bool {
        self.method == Method::None
    }

    /// The name in tables and legends: `base` for the base, else `method` with `(params)` when there are any.
    pub fn label(&self) -> String {
        match (self.is_base(), self.params.is_empty()) {
            (true, _) => "base".to_string(),
            (false, true) => self.method.to_string(),
            (false, false) => format!("{} ({})", self.method, self.params),
        }
    }

    /// The adapted end of the sweep: the largest α (α = 1 for a full sweep; the only point of a configuration
    /// without one, such as the base).
    pub fn adapted(&self) -> &AlphaPoint {
        self.points.last().expect("a configuration has at least one α")
    }

    /// The best α: argmin over α of [`AlphaPoint::criterion`] = ½·(ID excess + OOD excess), both seed means;
    /// ties go to the larger α (the less interpolated model). A non-finite criterion ranks last.
    pub fn best(&self) -> &AlphaPoint {
        let rank = |point: &AlphaPoint| match point.criterion() {
            score if score.is_finite() => score,
            _ => f64::INFINITY,
        };
        // `points` is in increasing α, so `<=` hands ties to the later, larger α.
        self.points.iter().fold(&self.points[0], |best, point| if rank(point) <= rank(best) { point } else { best })
    }
}

/// Groups `rows` into configurations (method, params), each with its α sweep: rows with the same (method,
/// params, α, eval_source) are one cell, aggregated over seeds. The base (`none`) comes first, then the
/// others in order of first appearance. An α without an ID row is left out of its sweep, and a configuration
/// left with no α at all is dropped, since every comparison in the report is anchored on ID excess.
pub fn configurations(rows: &[MetricRow]) -> Vec<Configuration> {
    let mut configurations: Vec<Configuration> =
        group_by(rows.iter(), |row| (row.method, row.params.as_str()))
            .into_iter()
            .filter_map(|((method, params), rows)| configuration(method, params, &rows))
            .collect();
    configurations.sort_by_key(|configuration| !configuration.is_base()); // stable: others keep their order
    configurations
}

fn configuration(method: Method, params: &str, rows: &[&MetricRow]) -> Option<Configuration> {
    let mut by_alpha = group_by(rows.iter().copied(), |row| row.alpha);
    by_alpha.sort_by(|(a, _), (b, _)| a.total_cmp(b));
    let points: Vec<AlphaPoint> = by_alpha.iter().filter_map(|(alpha, rows)| alpha_point(*alpha, rows)).collect();
    if points.is_empty() {
        return None;
    }
    // Steps and time are repeated on every row of a seed: average one row per seed.
    let per_seed: Vec<&MetricRow> =
        group_by(rows.iter().copied(), |row| row.seed).into_iter().map(|(_, rows)| rows[0]).collect();
    Some(Configuration {
        method,
        params: params.to_string(),
        trainable_params: rows[0].trainable_params,
        prompt_tokens: rows[0].prompt_tokens,
        steps: mean_of(&per_seed, |row| row.steps as f64),
        adapt_seconds: mean_of(&per_seed, |row| row.adapt_seconds),
        seeds: per_seed.iter().map(|row| row.seed).collect(),
        points,
    })
}

fn alpha_point(alpha: f64, rows: &[&MetricRow]) -> Option<AlphaPoint> {
    let (id_rows, ood_rows): (Vec<&MetricRow>, Vec<&MetricRow>) =
        rows.iter().copied().partition(|row| row.role == Role::Id);
    // One ID source (`task`) by construction; should there be several, the first is the task.
    let id = group_by(id_rows.into_iter(), |row| row.eval_source.as_str()).into_iter().next()?;
    let ood = group_by(ood_rows.iter().copied(), |row| row.eval_source.as_str());
    let per_seed = group_by(ood_rows.iter().copied(), |row| row.seed);
    let seed_means: Vec<f64> = per_seed.iter().map(|(_, rows)| mean_of(rows, |row| row.excess_bits)).collect();
    let ood_excess = per_seed.first().and_then(|(_, rows)| {
        let combined_ci95 = rows.iter().map(|row| row.excess_ci95.powi(2)).sum::<f64>().sqrt() / rows.len() as f64;
        Aggregate::across_seeds(&seed_means, combined_ci95)
    });
    Some(AlphaPoint {
        alpha,
        id: source_summary(id.0, &id.1),
        ood: ood.iter().map(|(source, rows)| source_summary(source, rows)).collect(),
        ood_excess,
    })
}

/// Aggregates the rows of one cell (one row per seed); `rows` is not empty.
fn source_summary(eval_source: &str, rows: &[&MetricRow]) -> SourceSummary {
    let across = |value: fn(&MetricRow) -> f64, ci95: fn(&MetricRow) -> f64| {
        let values: Vec<f64> = rows.iter().map(|row| value(row)).collect();
        Aggregate::across_seeds(&values, ci95(rows[0])).expect("a cell has at least one row")
    };
    SourceSummary {
        eval_source: eval_source.to_string(),
        excess: across(|row| row.excess_bits, |row| row.excess_ci95),
        loss: across(|row| row.loss_bits, |row| row.loss_ci95),
        accuracy: mean_of(rows, |row| row.accuracy),
        ece: mean_of(rows, |row| row.ece),
    }
}

/// The names of the OOD sources evaluated anywhere in `configurations`, in order of first appearance.
pub fn ood_sources(configurations: &[Configuration]) -> Vec<&str> {
    let mut sources: Vec<&str> = Vec::new();
    for summary in configurations.iter().flat_map(|c| &c.points).flat_map(|point| &point.ood) {
        if !sources.contains(&summary.eval_source.as_str()) {
            sources.push(&summary.eval_source);
        }
    }
    sources
}

/// Splits `items` into groups of equal `key`, groups and their members in order of first appearance.
fn group_by<'a, K: PartialEq>(
    items: impl Iterator<Item = &'a MetricRow>,
    key: impl Fn(&'a MetricRow) -> K,
) -> Vec<(K, Vec<&'a MetricRow>)> {
    let mut groups: Vec<(K, Vec<&'a MetricRow>)> = Vec::new();
    for item in items {
        let k = key(item);
        match groups.iter_mut().find(|(existing, _)| *existing == k) {
            Some((_, members)) => members.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    groups
}

/// Mean of `value` over `rows` (NaN for none, which callers rule out).
fn mean_of(rows: &[&MetricRow], value: impl Fn(&MetricRow) -> f64) -> f64 {
    rows.iter().map(|row| value(row)).sum::<f64>() / rows.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::row;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn one_two_three_has_mean_two_and_a_t_interval() {
        // x̄ = 2, s² = (1 + 0 + 1)/2 = 1, ci = t_{0.975,2} · 1/√3 = 4.303/√3
        let aggregate = Aggregate::across_seeds(&[1.0, 2.0, 3.0], 99.0).unwrap();
        assert_eq!(aggregate.n, 3);
        assert!(close(aggregate.mean, 2.0));
        assert!(close(aggregate.ci95, 4.303 / 3f64.sqrt()));
    }

    #[test]
    fn a_single_seed_reports_its_within_seed_interval() {
        assert_eq!(Aggregate::across_seeds(&[0.5], 0.03), Some(Aggregate { mean: 0.5, ci95: 0.03, n: 1 }));
        assert_eq!(Aggregate::across_seeds(&[], 0.03), None);
    }

    /// A sweep α ∈ {0, 0.5, 1} over seeds 1 and 2 and OOD sources a and b, with excess given per α as
    /// (ID, OOD a, OOD b), the same for both seeds.
    fn sweep(method: &str, excess: [(f64, f64, f64); 3]) -> Vec<MetricRow> {
        let mut rows = Vec::new();
        for seed in [1, 2] {
            for (alpha, (id, a, b)) in [0.0, 0.5, 1.0].into_iter().zip(excess) {
                rows.push(row(method, seed, alpha, "task", id));
                rows.push(row(method, seed, alpha, "a", a));
                rows.push(row(method, seed, alpha, "b", b));
            }
        }
        rows
    }

    #[test]
    fn ood_excess_is_the_mean_over_sources_then_over_seeds() {
        let mut rows = sweep("full", [(0.3, 0.0, 0.1), (0.1, 0.1, 0.3), (0.0, 0.3, 0.5)]);
        rows.iter_mut().filter(|row| row.seed == 2 && row.eval_source == "a").for_each(|row| row.excess_bits += 0.2);
        let configurations = configurations(&rows);
        let point = &configurations[0].points[2];
        // seed 1: (0.3 + 0.5)/2 = 0.4; seed 2: (0.5 + 0.5)/2 = 0.5; mean 0.45, s = √(2·0.05²/1) = 0.05·√2
        let ood = point.ood_excess.unwrap();
        assert!(close(ood.mean, 0.45));
        assert!(close(ood.ci95, 12.706 * 0.05 * 2f64.sqrt() / 2f64.sqrt()));
        assert_eq!(point.ood.iter().map(|s| s.eval_source.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn best_alpha_is_the_minimum_of_the_mean_of_id_and_ood_excess() {
        // criterion ½(ID + (a + b)/2): α=0 → ½(0.3 + 0.05) = 0.175, α=0.5 → ½(0.1 + 0.2) = 0.15,
        // α=1 → ½(0.0 + 0.4) = 0.2, so α = 0.5
        let configurations = configurations(&sweep("full", [(0.3, 0.0, 0.1), (0.1, 0.1, 0.3), (0.0, 0.3, 0.5)]));
        let best = configurations[0].best();
        assert_eq!(best.alpha, 0.5);
        assert!(close(best.criterion(), 0.15));
        assert_eq!(configurations[0].adapted().alpha, 1.0);
    }

    #[test]
    fn best_alpha_ties_go_to_the_larger_alpha() {
        // criteria: α=0 → ½(0.2 + 0.0) = 0.1, α=0.5 → ½(0.1 + 0.1) = 0.1, α=1 → ½(0.0 + 0.4) = 0.2
        let configurations = configurations(&sweep("full", [(0.2, 0.0, 0.0), (0.1, 0.1, 0.1), (0.0, 0.4, 0.4)]));
        assert_eq!(configurations[0].best().alpha, 0.5);
    }

    #[test]
    fn the_base_comes_first_and_others_keep_their_order() {
        let mut rows = sweep("lora", [(0.3, 0.0, 0.1), (0.1, 0.1, 0.3), (0.0, 0.3, 0.5)]);
        rows.extend(sweep("full", [(0.3, 0.0, 0.1), (0.1, 0.1, 0.3), (0.0, 0.3, 0.5)]));
        rows.push(row("none", 1, 0.0, "task", 0.3));
        let labels: Vec<String> = configurations(&rows).iter().map(Configuration::label).collect();
        assert_eq!(labels, ["base", "lora", "full"]);
    }

    #[test]
    fn steps_and_time_are_averaged_over_seeds_not_rows() {
        let mut rows = sweep("full", [(0.3, 0.0, 0.1), (0.1, 0.1, 0.3), (0.0, 0.3, 0.5)]);
        rows.iter_mut().filter(|row| row.seed == 2).for_each(|row| row.steps = 100);
        rows.push(row("full", 3, 1.0, "task", 0.0)); // seed 3: one row only, steps 200
        let configuration = &configurations(&rows)[0];
        assert!(close(configuration.steps, (200.0 + 100.0 + 200.0) / 3.0));
        assert_eq!(configuration.seeds, [1, 2, 3]);
    }

    #[test]
    fn an_alpha_without_an_id_row_is_left_out() {
        let rows = vec![row("full", 1, 0.5, "a", 0.1), row("full", 1, 1.0, "task", 0.0)];
        let configuration = &configurations(&rows)[0];
        assert_eq!(configuration.points.len(), 1);
        assert!(configuration.points[0].ood_excess.is_none());
        assert!(configurations(&[row("full", 1, 0.5, "a", 0.1)]).is_empty());
    }
}
