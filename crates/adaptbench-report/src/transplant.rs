//! The per-configuration aggregation of `model_update.csv`, shared by its section of `report.md`
//! ([`model_update_markdown`](crate::model_update_markdown)) and its figure
//! ([`model_update_svg`](crate::model_update_svg)): each adaptation's excess on the base it was found on and on
//! the other base, and the paired cost of the transplant, each across seeds.

use crate::aggregate::Aggregate;
use crate::model_update::ModelUpdateRow;
use crate::vocabulary::{EvalBase, Method, Role};
use crate::tidy::group_by_key;

/// One configuration's excess on both bases and the transplant cost, each aggregated across seeds
/// ([`Aggregate::across_seeds`]; with a single seed the within-seed CI).
pub(crate) struct Transplant {
    pub(crate) method: Method,
    /// Hyper-parameters as in `model_update.csv` (empty for none).
    pub(crate) params: String,
    pub(crate) seeds: usize,
    /// The ID excess, indexed by [`base_index`].
    id: [Option<Aggregate>; 2],
    /// Per seed the mean OOD excess, indexed by [`base_index`].
    ood: [Option<Aggregate>; 2],
    /// Per seed other − found on, then across seeds.
    pub(crate) id_cost: Option<Aggregate>,
    pub(crate) ood_cost: Option<Aggregate>,
}

impl Transplant {
    /// `method`, or `method (params)` when it has hyper-parameters.
    pub(crate) fn label(&self) -> String {
        if self.params.is_empty() {
            self.method.to_string()
        } else {
            format!("{} ({})", self.method, self.params)
        }
    }

    /// The ID excess on `base`; `None` when no seed was evaluated in distribution there.
    pub(crate) fn id(&self, base: EvalBase) -> Option<Aggregate> {
        self.id[base_index(base)]
    }

    /// The OOD excess on `base` (per seed the mean over its OOD sources); `None` when there is no OOD row.
    pub(crate) fn ood(&self, base: EvalBase) -> Option<Aggregate> {
        self.ood[base_index(base)]
    }
}

/// One [`Transplant`] per configuration (method + params) of `rows`, in order of first appearance.
pub(crate) fn transplants(rows: &[ModelUpdateRow]) -> Vec<Transplant> {
    group_by_key(rows, |row| (row.method, row.params.as_str()))
        .into_iter()
        .map(|((method, params), rows)| transplant(method, params, &rows))
        .collect()
}

const BASES: [EvalBase; 2] = [EvalBase::FoundOn, EvalBase::Other];

fn base_index(base: EvalBase) -> usize {
    match base {
        EvalBase::FoundOn => 0,
        EvalBase::Other => 1,
    }
}

/// One seed's excess on one base: the ID excess and the mean OOD excess, each with its within-seed CI.
#[derive(Clone, Copy)]
struct SeedExcess {
    id: Option<(f64, f64)>,
    ood: Option<(f64, f64)>,
}

fn transplant(method: Method, params: &str, rows: &[&ModelUpdateRow]) -> Transplant {
    let by_seed = group_by_key(rows.iter().copied(), |row| row.seed);
    let per_seed: Vec<[SeedExcess; 2]> =
        by_seed.iter().map(|(_, rows)| BASES.map(|base| seed_excess(rows, base))).collect();
    let across = |values: Vec<(f64, f64)>| {
        let means: Vec<f64> = values.iter().map(|(mean, _)| *mean).collect();
        Aggregate::across_seeds(&means, values.first().map_or(f64::NAN, |(_, ci)| *ci))
    };
    let on = |base: usize, pick: fn(&SeedExcess) -> Option<(f64, f64)>| {
        across(per_seed.iter().filter_map(|seed| pick(&seed[base])).collect())
    };
    // Δ over the seeds evaluated on both bases; a single seed's CI treats the two evaluations as independent.
    let paired_cost = |pick: fn(&SeedExcess) -> Option<(f64, f64)>| {
        across(
            per_seed
                .iter()
                .filter_map(|seed| {
                    let ((found, found_ci), (other, other_ci)) = (pick(&seed[0])?, pick(&seed[1])?);
                    Some((other - found, found_ci.hypot(other_ci)))
                })
                .collect(),
        )
    };
    Transplant {
        method,
        params: params.to_string(),
        seeds: by_seed.len(),
        id: [on(0, |seed| seed.id), on(1, |seed| seed.id)],
        ood: [on(0, |seed| seed.ood), on(1, |seed| seed.ood)],
        id_cost: paired_cost(|seed| seed.id),
        ood_cost: paired_cost(|seed| seed.ood),
    }
}

/// One seed's rows on `base`: the first ID row's excess, and the mean OOD excess with the combined CI
/// √(Σ_k ci_k²)/K of its K sources.
fn seed_excess(rows: &[&ModelUpdateRow], base: EvalBase) -> SeedExcess {
    let (id, ood): (Vec<&ModelUpdateRow>, Vec<&ModelUpdateRow>) =
        rows.iter().copied().filter(|row| row.base == base).partition(|row| row.role == Role::Id);
    let k = ood.len() as f64;
    SeedExcess {
        id: id.first().map(|row| (row.excess_bits, row.excess_ci95)),
        ood: (!ood.is_empty()).then(|| {
            let mean = ood.iter().map(|row| row.excess_bits).sum::<f64>() / k;
            (mean, ood.iter().map(|row| row.excess_ci95.powi(2)).sum::<f64>().sqrt() / k)
        }),
    }
}
