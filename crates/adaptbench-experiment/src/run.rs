//! The whole pipeline of `adaptbench run`: obtain every base the grid needs (cached, or trained once and
//! shared by every point that agrees on `[model]`, `[pretrain]` and the seed), enumerate the cells of every
//! point, run the ones not finished yet (`--jobs` at a time, or only this process's `--shard`), and assemble
//! the rows, the held-out choices and the documents (`assemble.rs`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use adaptbench_report::write_atomically;
use serde_json::json;

use crate::assemble::{assemble, Assembled, PlanBase, PlanCell, PlanFile, CONFIG_COPY};
use crate::base::{base_details, obtain_base, Base};
use crate::cache::BaseCache;
use crate::cells::CellStore;
use crate::environment::Environment;
use crate::error::{ConfigError, ExperimentError, Result};
use crate::grid::Grid;
use crate::manifest::write_manifest;
use crate::observer::Observer;
use crate::plan::{CellSpec, PointPlan};

/// How a run uses the machine; nothing here changes a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Cells computed at once, each on its own thread pool of `threads / jobs` threads.
    pub jobs: usize,
    /// Only this slice of the cells (`--shard i/n`); the shards of one grid assemble with `adaptbench report`.
    pub shard: Option<Shard>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { jobs: 1, shard: None }
    }
}

/// Shard `index` of `count`: the cells whose position in the grid's cell list is `index` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    /// `i/n` with 0 ≤ i < n, e.g. `3/16`.
    fn from_str(text: &str) -> Result<Self, String> {
        let parse = |part: &str| part.trim().parse::<usize>().ok();
        match text.split_once('/').map(|(i, n)| (parse(i), parse(n))) {
            Some((Some(index), Some(count))) if index < count => Ok(Self { index, count }),
            _ => Err(format!("`{text}` is not i/n with 0 ≤ i < n, e.g. 0/4")),
        }
    }
}

/// What a run produced.
pub struct RunOutcome {
    /// The assembled results; `None` for a shard (assemble with [`crate::redraw`] once every shard is done).
    pub assembled: Option<Assembled>,
    /// Cells of this process's slice computed now, and read back from an earlier run.
    pub cells_computed: usize,
    pub cells_reused: usize,
    pub wall_seconds: f64,
}

/// Runs `grid` into `out`: its bases, then every cell of this process's slice (reusing the finished ones in
/// `out/cells/`), then — unless sharded — `metrics.csv`, `selection.csv`, `choices.csv`, `points.csv`,
/// `report.md`, the figures and `manifest.json`. `config_path` is recorded in the manifest and the report. A
/// stop request ends it after the cells in progress with [`ExperimentError::Interrupted`].
pub fn run_experiment(
    grid: &Grid,
    config_path: &Path,
    out: &Path,
    environment: &Environment,
    options: &RunOptions,
    observer: &dyn Observer,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let jobs = options.jobs.max(1);
    write_atomically(&out.join(CONFIG_COPY), grid.text.as_bytes())?;
    let bases = Bases::obtain(grid, out, environment, observer)?;
    if grid.is_single() {
        let config = &grid.points[0].config;
        write_atomically(&out.join("config.resolved.toml"), config.to_toml().as_bytes())?;
    }

    let plans: Vec<PointPlan> = grid
        .points
        .iter()
        .zip(&bases.of_point)
        .map(|(point, &b)| {
            let (base, other) = &bases.obtained[b];
            PointPlan::new(&point.config, &point.candidates, base, other.as_ref())
        })
        .collect::<Result<_>>()?;
    // Every cell once, in grid order; a cell two points share (same fingerprint) belongs to both.
    let mut unique: Vec<(usize, CellSpec, Vec<u64>)> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for (p, plan) in plans.iter().enumerate() {
        for spec in plan.cells() {
            match position.get(&spec.fingerprint) {
                Some(&i) => unique[i].2.push(p as u64),
                None => {
                    position.insert(spec.fingerprint.clone(), unique.len());
                    unique.push((p, spec, vec![p as u64]));
                }
            }
        }
    }
    let plan_file = PlanFile {
        backend: environment.backend.to_string(),
        bases: bases.plan_entries(out),
        cells: unique.iter().map(|(_, spec, points)| PlanCell { name: spec.name.clone(), fingerprint: spec.fingerprint.clone(), points: points.clone() }).collect(),
    };
    plan_file.write(out)?;

    let mine: Vec<(usize, CellSpec)> = unique
        .into_iter()
        .enumerate()
        .filter(|(i, _)| options.shard.is_none_or(|shard| i % shard.count == shard.index))
        .map(|(_, (p, spec, _))| (p, spec))
        .collect();
    let cells = CellStore::new(out.join("cells"));
    let todo: Vec<(usize, CellSpec)> =
        mine.iter().filter(|(_, spec)| cells.load(&spec.name, &spec.fingerprint).is_none()).cloned().collect();
    let (cells_computed, cells_reused) = (todo.len(), mine.len() - todo.len());
    observer.cells_started(mine.len());
    for _ in 0..cells_reused {
        observer.cell_finished();
    }
    run_cells(&todo, &plans, &cells, jobs, environment, observer)?;
    observer.cells_finished();

    let wall_seconds = started.elapsed().as_secs_f64();
    if options.shard.is_some() {
        return Ok(RunOutcome { assembled: None, cells_computed, cells_reused, wall_seconds });
    }
    let assembled = assemble(out, grid, &plan_file, Some(wall_seconds), config_path)?;
    // The first base's record at the top (with its `[model_update]` base), every base's under `bases`.
    let config_of = |i: usize| &grid.points[bases.of_point.iter().position(|&b| b == i).expect("every base serves a point")].config;
    let details_of = |i: usize| {
        let (base, other) = &bases.obtained[i];
        let config = config_of(i);
        let mut details = base_details(config, base, environment);
        if let (Some(other), Some(update)) = (other, &config.model_update) {
            details["model_update"] = base_details(&update.other_base_config(config), other, environment);
        }
        details
    };
    let mut details = details_of(0);
    if bases.obtained.len() > 1 {
        details["bases"] = (0..bases.obtained.len()).map(details_of).collect();
    }
    details["run"] = json!({
        "wall_seconds": wall_seconds,
        "jobs": jobs,
        "points": grid.points.len(),
        "cells": plan_file.cells.len(),
        "cells_computed": cells_computed,
        "rows": assembled.tables.rows.len(),
    });
    write_manifest(&out.join("manifest.json"), "run", config_path, grid.points[0].config.seed, details)?;
    Ok(RunOutcome { assembled: Some(assembled), cells_computed, cells_reused, wall_seconds })
}

/// Computes `todo` (point index, cell) and saves each cell as it finishes: `jobs` cells at a time, each on
/// a thread pool of its own. A cell's numbers depend only on its inputs, never on which job ran it.
fn run_cells(
    todo: &[(usize, CellSpec)],
    plans: &[PointPlan],
    cells: &CellStore,
    jobs: usize,
    environment: &Environment,
    observer: &dyn Observer,
) -> Result<()> {
    // The draws of each (point, seed), made once by whichever cell needs them first.
    let prepared: HashMap<(usize, u64), OnceLock<crate::plan::Prepared>> =
        todo.iter().map(|(p, spec)| ((*p, spec.seed), OnceLock::new())).collect();
    let (next, finished) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let failure: Mutex<Option<ExperimentError>> = Mutex::new(None);
    let threads = (environment.threads() / jobs).max(1);
    let device = &environment.device;
    let worker = || {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
        let pool = match pool {
            Ok(pool) => pool,
            Err(error) => {
                let message = format!("a thread pool of {threads} threads: {error}");
                *failure.lock().expect("never poisoned") = Some(ExperimentError::Config(ConfigError::new("--jobs", jobs, message)));
                return;
            }
        };
        pool.install(|| loop {
            if observer.stop_requested() || failure.lock().expect("never poisoned").is_some() {
                return;
            }
            let Some((p, spec)) = todo.get(next.fetch_add(1, Ordering::SeqCst)) else { return };
            observer.cell_started(&spec.label);
            let plan = &plans[*p];
            let draws = prepared[&(*p, spec.seed)].get_or_init(|| plan.prepare(spec.seed, device));
            let result = plan.compute(spec, draws, device).and_then(|cell| cells.save(&spec.name, &spec.fingerprint, &cell));
            if let Err(error) = result {
                failure.lock().expect("never poisoned").get_or_insert(error);
                return;
            }
            finished.fetch_add(1, Ordering::SeqCst);
            observer.cell_finished();
        });
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(todo.len()) {
            scope.spawn(worker);
        }
    });
    if let Some(error) = failure.into_inner().expect("never poisoned") {
        return Err(error);
    }
    if finished.load(Ordering::SeqCst) < todo.len() {
        return Err(ExperimentError::Interrupted);
    }
    Ok(())
}

/// The distinct bases of a grid, each obtained once.
struct Bases {
    /// (base, `[model_update]` base) in order of first use.
    obtained: Vec<(Base, Option<Base>)>,
    /// The directory each base's record was written to.
    dirs: Vec<PathBuf>,
    /// Index into `obtained` of each point's base.
    of_point: Vec<usize>,
}

impl Bases {
    /// One base per distinct cache key, recorded in `out` when the grid has a single base, else in
    /// `out/bases/<key>/`.
    fn obtain(grid: &Grid, out: &Path, environment: &Environment, observer: &dyn Observer) -> Result<Self> {
        let keys: Vec<String> = grid.points.iter().map(|p| BaseCache::key(&p.config, environment.backend)).collect();
        let mut distinct: Vec<&String> = Vec::new();
        for key in &keys {
            if !distinct.contains(&key) {
                distinct.push(key);
            }
        }
        let mut bases = Self { obtained: Vec::new(), dirs: Vec::new(), of_point: Vec::new() };
        for key in &distinct {
            let config = &grid.points[keys.iter().position(|k| k == *key).expect("a point's key")].config;
            let dir = if distinct.len() == 1 { out.to_path_buf() } else { out.join("bases").join(key.as_str()) };
            let base = obtain_base(config, environment, &dir, observer)?;
            let other = match &config.model_update {
                Some(update) => {
                    observer.note(&format!("Model update: the second base is pretrained with seed {}.", update.seed));
                    let other_dir = dir.join(update.base_dir_name());
                    Some(obtain_base(&update.other_base_config(config), environment, &other_dir, observer)?)
                }
                None => None,
            };
            bases.obtained.push((base, other));
            bases.dirs.push(dir);
        }
        bases.of_point = keys.iter().map(|key| distinct.iter().position(|k| *k == key).expect("distinct")).collect();
        Ok(bases)
    }

    /// The plan file's record of where each point's base lives, relative to `out`.
    fn plan_entries(&self, out: &Path) -> Vec<PlanBase> {
        self.dirs
            .iter()
            .enumerate()
            .map(|(i, dir)| PlanBase {
                dir: dir.strip_prefix(out).unwrap_or(dir).display().to_string(),
                key: self.obtained[i].0.cache_key.clone(),
                points: self.of_point.iter().enumerate().filter(|(_, &b)| b == i).map(|(p, _)| p as u64).collect(),
            })
            .collect()
    }
}
