//! Grids of experiments. A config may carry a `[sweep]` table whose keys are dotted config paths and whose
//! values are lists: the config expands to the cartesian product of those lists, one [`GridPoint`] each. A
//! list inside a `[methods.*]` table (`lr = [1e-3, 3e-3]`) is a grid of hyper-parameter candidates of that
//! method, chosen per point and seed on held-out data (`selection.rs` of the report crate), never on the
//! evaluation sequences.
//!
//! Expansion works on the TOML tree before it is typed, so a swept value is written exactly as it would be
//! in a config (`{ kind = "bern", p = 0.9 }`), and every point — with every candidate of every method — is
//! deserialised and validated as a config of its own before any work starts; an error names the point.

use std::path::Path;

use adaptbench_adapt::{MethodConfig, MethodsConfig};
use adaptbench_report::PointRow;
use toml::{Table, Value};

use crate::config::ExperimentConfig;
use crate::error::ConfigError;

/// At most this many grid points, and candidates per method: beyond it a typo (a long list swept against
/// another) would plan more work than any machine finishes.
const MAX_POINTS: usize = 10_000;

/// An expanded, validated grid: a config without `[sweep]` or candidate lists is the single point 0 with one
/// candidate per method.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The config text as given: written to `DIR/config.toml`, from which shards and `adaptbench report`
    /// rebuild the same grid.
    pub text: String,
    /// The swept keys, in the order the `[sweep]` table lists them.
    pub keys: Vec<String>,
    /// The points: the first key varies slowest, the last fastest (like nested loops in key order).
    pub points: Vec<GridPoint>,
}

/// One point of a grid.
#[derive(Debug, Clone)]
pub struct GridPoint {
    pub index: u64,
    /// The value of each swept key at this point, in [`Grid::keys`] order.
    pub values: Vec<Value>,
    /// The point's config. Its `methods` holds each method's first candidate; [`GridPoint::candidates`] holds
    /// them all.
    pub config: ExperimentConfig,
    /// Every candidate of every configured method: methods in their fixed order, each method's candidates in
    /// the order of its lists (first list slowest).
    pub candidates: Vec<MethodConfig>,
}

impl Grid {
    /// Reads, expands and validates the config at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::Unreadable { path: path.to_path_buf(), message: error.to_string() })?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
        Self::parse_at(text, &stem, path)
    }

    /// Expands and validates config text; `default_name` stands in for a missing `name`.
    pub fn parse(text: &str, default_name: &str) -> Result<Self, ConfigError> {
        Self::parse_at(text.to_string(), default_name, Path::new("config"))
    }

    fn parse_at(text: String, default_name: &str, path: &Path) -> Result<Self, ConfigError> {
        let unreadable = |message: String| ConfigError::Unreadable { path: path.to_path_buf(), message };
        let mut table: Table = text.parse().map_err(|error: toml::de::Error| unreadable(error.to_string()))?;
        let sweep = match table.remove("sweep") {
            None => Vec::new(),
            Some(Value::Table(sweep)) => sweep_lists(sweep)?,
            Some(other) => return Err(ConfigError::new("sweep", other, "a table of dotted keys and lists")),
        };
        let keys: Vec<String> = sweep.iter().map(|(key, _)| key.clone()).collect();
        let lists: Vec<Vec<Value>> = sweep.into_iter().map(|(_, values)| values).collect();
        let mut points = Vec::new();
        for (index, values) in product(&lists).into_iter().enumerate() {
            let mut point_table = table.clone();
            for (key, value) in keys.iter().zip(&values) {
                set_path(&mut point_table, key, value.clone())?;
            }
            let label = label(&keys, &values);
            let at_point = |error: ConfigError| if keys.is_empty() { error } else { error.at_point(index as u64, &label) };
            let point = expand_point(index as u64, values, point_table, default_name, &unreadable).map_err(at_point)?;
            // A grid's report is its held-out choices: without a validation split there is nothing to choose on.
            let has_candidates = point.candidates.len() > point.config.methods.configured().len();
            if (has_candidates || !keys.is_empty()) && point.config.finetune.validation_fraction == 0.0 {
                return Err(at_point(ConfigError::new(
                    "finetune.validation_fraction",
                    0,
                    "> 0 in a grid ([sweep] or candidate lists): hyper-parameters and α are chosen on the validation \
                     split of D_N, e.g. 0.25",
                )));
            }
            points.push(point);
        }
        if !keys.is_empty() && points.iter().any(|point: &GridPoint| point.config.model_update.is_some()) {
            // model_update.csv has no point column: its rows would mix the points.
            return Err(ConfigError::new(
                "model_update",
                "a table",
                "only in a config without [sweep]: run the model update of each setting as its own config",
            ));
        }
        Ok(Self { text, keys, points })
    }

    /// Whether the grid is one plain config: no `[sweep]`, one candidate per method.
    pub fn is_single(&self) -> bool {
        self.points.len() == 1 && self.points[0].candidates.len() == self.points[0].config.methods.configured().len()
    }

    /// The one point of a grid without `[sweep]`, for the commands that run a single base or search
    /// (`command` names them in the error).
    pub fn single_point(self, command: &str) -> Result<GridPoint, ConfigError> {
        if self.points.len() != 1 {
            return Err(ConfigError::new(
                "sweep",
                format!("{} points", self.points.len()),
                format!("`adaptbench {command}` runs one config: remove the [sweep] table (or use `adaptbench run`)"),
            ));
        }
        Ok(self.points.into_iter().next().expect("one point"))
    }

    /// The rows of `points.csv`: each point's value of each swept key, in TOML inline syntax.
    pub fn point_rows(&self) -> Vec<PointRow> {
        self.points
            .iter()
            .flat_map(|point| {
                self.keys.iter().zip(&point.values).map(|(key, value)| PointRow {
                    point: point.index,
                    key: key.clone(),
                    value: inline(value),
                })
            })
            .collect()
    }
}

impl GridPoint {
    /// `key=value, …` of the swept keys (empty for a config without `[sweep]`).
    pub fn label(&self, keys: &[String]) -> String {
        label(keys, &self.values)
    }
}

/// A value in TOML inline syntax, as a config would write it.
pub fn inline(value: &Value) -> String {
    value.to_string()
}

fn label(keys: &[String], values: &[Value]) -> String {
    keys.iter().zip(values).map(|(key, value)| format!("{key}={}", inline(value))).collect::<Vec<_>>().join(", ")
}

/// The `[sweep]` table as (dotted key, values), each a non-empty list; `name` and `sweep` cannot be swept.
fn sweep_lists(sweep: Table) -> Result<Vec<(String, Vec<Value>)>, ConfigError> {
    let mut lists = Vec::new();
    let mut points = 1usize;
    for (key, value) in sweep {
        let sweep_key = format!("sweep.\"{key}\"");
        if key == "name" || key.starts_with("sweep") || key.split('.').any(str::is_empty) {
            return Err(ConfigError::new(sweep_key, "", "a dotted path to a config key other than name, e.g. \"task.sequences\""));
        }
        let Value::Array(values) = value else {
            return Err(ConfigError::new(sweep_key, value, "a list of the values to sweep"));
        };
        if values.is_empty() {
            return Err(ConfigError::new(sweep_key, "[]", "at least one value"));
        }
        points = points.saturating_mul(values.len());
        if points > MAX_POINTS {
            return Err(ConfigError::new(sweep_key, format!("{} values", values.len()), format!("at most {MAX_POINTS} grid points in all")));
        }
        lists.push((key, values));
    }
    Ok(lists)
}

/// Every combination of one value from each list: the first list varies slowest. No lists: one empty
/// combination.
fn product<T: Clone>(lists: &[Vec<T>]) -> Vec<Vec<T>> {
    lists.iter().fold(vec![Vec::new()], |combinations, list| {
        combinations
            .iter()
            .flat_map(|prefix| {
                list.iter().map(move |value| prefix.iter().cloned().chain(std::iter::once(value.clone())).collect())
            })
            .collect()
    })
}

/// Sets the dotted `key` of `table` to `value`, creating the tables on its path.
fn set_path(table: &mut Table, key: &str, value: Value) -> Result<(), ConfigError> {
    let (path, last) = key.rsplit_once('.').map_or((None, key), |(path, last)| (Some(path), last));
    let mut current = table;
    for part in path.into_iter().flat_map(|path| path.split('.')) {
        let next = current.entry(part.to_string()).or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(next) = next else {
            return Err(ConfigError::new(format!("sweep.\"{key}\""), "", format!("`{part}` is not a table in the config")));
        };
        current = next;
    }
    current.insert(last.to_string(), value);
    Ok(())
}

/// One point: its config (first candidates) and every candidate of every method, each validated as the
/// point's config with that candidate in place.
fn expand_point(
    index: u64,
    values: Vec<Value>,
    table: Table,
    default_name: &str,
    unreadable: &dyn Fn(String) -> ConfigError,
) -> Result<GridPoint, ConfigError> {
    let typed = |table: &Table| -> Result<ExperimentConfig, ConfigError> {
        let config = ExperimentConfig::from_table(table.clone(), default_name).map_err(unreadable)?;
        config.validate()?;
        Ok(config)
    };
    let Some(Value::Table(methods)) = table.get("methods") else {
        // No [methods] table: every method with its defaults, one candidate each.
        let config = typed(&table)?;
        let candidates = config.methods.configured();
        return Ok(GridPoint { index, values, config, candidates });
    };
    let defaults = Table::try_from(MethodsConfig::default()).expect("the default methods serialise");
    let mut per_method: Vec<(String, Vec<Table>)> = Vec::new();
    for (name, method) in methods {
        let Value::Table(method) = method else {
            // Not a table: left for deserialisation to reject with its own message.
            per_method.push((name.clone(), Vec::new()));
            continue;
        };
        let default = defaults.get(name).and_then(Value::as_table);
        per_method.push((name.clone(), method_candidates(name, method, default)?));
    }
    let first = |table: &Table| {
        let mut first = table.clone();
        let methods = first.get_mut("methods").and_then(Value::as_table_mut).expect("checked above");
        for (name, candidates) in &per_method {
            if let Some(candidate) = candidates.first() {
                methods.insert(name.clone(), Value::Table(candidate.clone()));
            }
        }
        first
    };
    let first_table = first(&table);
    let config = typed(&first_table)?;
    let mut candidates = Vec::new();
    // In the fixed method order of `configured()`, each method's candidates in product order.
    for method in config.methods.configured() {
        let name = method.name();
        let listed = per_method.iter().find(|(n, _)| n == name).map(|(_, c)| c.as_slice()).unwrap_or(&[]);
        if listed.len() <= 1 {
            candidates.push(method);
            continue;
        }
        let mut labels: Vec<String> = Vec::new();
        for (i, candidate) in listed.iter().enumerate() {
            let mut with = first_table.clone();
            let methods = with.get_mut("methods").and_then(Value::as_table_mut).expect("checked above");
            methods.insert(name.to_string(), Value::Table(candidate.clone()));
            let candidate_config = typed(&with)
                .map_err(|error| ConfigError::new(format!("methods.{name}"), format!("candidate {i}"), error))?;
            let method = candidate_config
                .methods
                .configured()
                .into_iter()
                .find(|m| m.name() == name)
                .expect("the candidate's method is configured");
            let params = method.params(config.layout.prompt_max_len);
            if labels.contains(&params) {
                return Err(ConfigError::new(format!("methods.{name}"), params, "distinct candidates (this one is listed twice)"));
            }
            labels.push(params);
            candidates.push(method);
        }
    }
    Ok(GridPoint { index, values, config, candidates })
}

/// The candidates of one `[methods.NAME]` table: the product of its candidate lists. A key is a candidate
/// list when its value is a list and the method's default for it is not one (`lr = [1e-3, 3e-3]`), or when it
/// is a list of lists (`targets = [["q", "v"], ["q", "k", "v", "o"]]`).
fn method_candidates(name: &str, method: &Table, default: Option<&Table>) -> Result<Vec<Table>, ConfigError> {
    let mut keys = Vec::new();
    let mut lists = Vec::new();
    let mut count = 1usize;
    for (key, value) in method {
        let Value::Array(values) = value else { continue };
        let default_is_list = default.and_then(|d| d.get(key)).is_some_and(Value::is_array);
        let is_candidates = !default_is_list || (!values.is_empty() && values.iter().all(Value::is_array));
        if !is_candidates {
            continue;
        }
        if values.is_empty() {
            return Err(ConfigError::new(format!("methods.{name}.{key}"), "[]", "at least one candidate"));
        }
        count = count.saturating_mul(values.len());
        if count > MAX_POINTS {
            return Err(ConfigError::new(format!("methods.{name}.{key}"), format!("{} values", values.len()), format!("at most {MAX_POINTS} candidates")));
        }
        keys.push(key.clone());
        lists.push(values.clone());
    }
    Ok(product(&lists)
        .into_iter()
        .map(|values| {
            let mut candidate = method.clone();
            for (key, value) in keys.iter().zip(values) {
                candidate.insert(key.clone(), value);
            }
            candidate
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name = \"g\"\n[finetune]\nvalidation_fraction = 0.25\n";

    #[test]
    fn a_sweep_expands_to_the_product_of_its_lists_first_key_slowest() {
        let text = format!(
            "{BASE}[sweep]\n\"task.sequences\" = [4, 16, 64]\n\"task.source\" = [{{ kind = \"bern\", p = 0.7 }}, {{ kind = \"bern\", p = 0.9 }}]\n"
        );
        let grid = Grid::parse(&text, "g").unwrap();
        assert_eq!(grid.keys, ["task.sequences", "task.source"]);
        assert_eq!(grid.points.len(), 6);
        let seen: Vec<(usize, String)> =
            grid.points.iter().map(|p| (p.config.task.sequences, p.config.task.source.to_string())).collect();
        let p = |n, theta: &str| (n, format!("bern(p={theta})"));
        assert_eq!(seen, [p(4, "0.7"), p(4, "0.9"), p(16, "0.7"), p(16, "0.9"), p(64, "0.7"), p(64, "0.9")]);
        assert_eq!(grid.points.iter().map(|p| p.index).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
        let rows = grid.point_rows();
        assert_eq!(rows.len(), 12);
        assert_eq!((rows[3].point, rows[3].key.as_str(), rows[3].value.as_str()), (1, "task.source", "{ kind = \"bern\", p = 0.9 }"));
        assert!(!grid.is_single());
    }

    #[test]
    fn a_plain_config_is_one_point_with_one_candidate_per_method() {
        let grid = Grid::parse(BASE, "g").unwrap();
        assert!(grid.is_single());
        assert_eq!(grid.points[0].candidates.len(), 8);
        assert!(grid.point_rows().is_empty());
    }

    #[test]
    fn lists_in_a_method_table_are_candidates_in_product_order() {
        let text = format!(
            "{BASE}[methods.full]\nlr = [1e-3, 3e-3]\n[methods.lora]\nr = [2, 4]\nlr = [1e-2, 3e-2]\ntargets = [[\"q\", \"v\"], [\"q\", \"k\", \"v\", \"o\"]]\n[methods.head]\n"
        );
        let grid = Grid::parse(&text, "g").unwrap();
        let point = &grid.points[0];
        let params: Vec<String> = point.candidates.iter().map(|m| format!("{}:{}", m.name(), m.params(8))).collect();
        assert_eq!(params.len(), 2 + 1 + 8);
        assert_eq!(params[..3], ["full:lr=0.001", "full:lr=0.003", "head:lr=0.01"]);
        assert_eq!(params[3], "lora:r=2;alpha=8;targets=q+v;lr=0.01");
        assert_eq!(params[4], "lora:r=2;alpha=8;targets=q+k+v+o;lr=0.01");
        assert_eq!(params[10], "lora:r=4;alpha=8;targets=q+k+v+o;lr=0.03");
        // A list the method's default already is (one target set) is a value, not candidates.
        let single = Grid::parse(&format!("{BASE}[methods.lora]\ntargets = [\"q\", \"v\"]\n"), "g").unwrap();
        assert!(single.is_single());
    }

    #[test]
    fn a_point_that_fails_validation_is_named_with_its_key() {
        let text = format!("{BASE}[sweep]\n\"task.sequences\" = [8, 0]\n");
        let error = Grid::parse(&text, "g").unwrap_err();
        assert_eq!(error.key(), "task.sequences");
        let message = error.to_string();
        assert!(message.contains("grid point 1 (task.sequences=0)") && message.contains("task.sequences = 0"), "{message}");
    }

    #[test]
    fn a_bad_candidate_or_sweep_entry_is_named() {
        for (text, expected) in [
            ("[methods.full]\nlr = [1e-3, -1.0]", "methods.full.lr = -1"),
            ("[methods.full]\nlr = []", "methods.full.lr = []"),
            ("[methods.full]\nlr = [1e-3, 0.001]", "listed twice"),
            ("[sweep]\n\"task.sequences\" = 8", "sweep.\"task.sequences\" = 8"),
            ("[sweep]\n\"task.sequences\" = []", "at least one value"),
            ("[sweep]\nname = [\"a\", \"b\"]", "sweep.\"name\""),
            ("[sweep]\n\"task.sequencez\" = [1, 2]", "unknown field `sequencez`"),
        ] {
            let message = Grid::parse(&format!("{BASE}{text}\n"), "g").unwrap_err().to_string();
            assert!(message.contains(expected), "{text}: {message}");
        }
        let message = Grid::parse("[methods.full]\nlr = [1e-3, 3e-3]\n", "g").unwrap_err().to_string();
        assert!(message.contains("finetune.validation_fraction = 0"), "{message}");
        let message = Grid::parse("[sweep]\n\"task.sequences\" = [8, 16]\n", "g").unwrap_err().to_string();
        assert!(message.contains("grid point 0 (task.sequences=8): finetune.validation_fraction = 0"), "{message}");
    }

    #[test]
    fn a_sweep_over_a_method_key_changes_that_method_at_each_point() {
        let text = format!("{BASE}[methods.lora]\n[sweep]\n\"methods.lora.r\" = [2, 8]\n");
        let grid = Grid::parse(&text, "g").unwrap();
        let r: Vec<String> = grid.points.iter().map(|p| p.candidates[0].params(8)).collect();
        assert_eq!(r, ["r=2;alpha=8;targets=q+v;lr=0.005", "r=8;alpha=8;targets=q+v;lr=0.005"]);
    }
}
