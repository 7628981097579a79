//! The one validation step: every table's own checks and every rule between tables, run on the whole config
//! before anything is written. Each table checks its own fields in its crate; the rules that need two tables
//! (positions a prompted model reads against the context and the trained positions, N against the validation
//! split, seed A against seed B) live here.

use adaptbench_prompt::PredictorKind;

use crate::config::ExperimentConfig;
use crate::error::{as_config_error, ConfigError};

impl ExperimentConfig {
    /// Checks every table and the constraints between them; the first violation is returned as a
    /// [`ConfigError`] naming its key, the value and the allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_name(&self.name)?;
        self.model.validate("model").map_err(|error| as_config_error("model", error))?;
        self.pretrain.validate("pretrain", self.model.context).map_err(|error| as_config_error("pretrain", error))?;
        self.layout.validate(self.pretrain.seq_len)?;
        self.task.validate()?;
        self.finetune
            .validate("finetune", self.task.sequences)
            .map_err(|error| as_config_error("finetune", error))?;
        self.methods
            .validate("methods", self.layout.prompt_max_len, &self.model)
            .map_err(|error| as_config_error("methods", error))?;
        self.eval.validate("eval", self.model.context).map_err(|error| as_config_error("eval", error))?;
        self.validate_prompted_lengths()?;
        self.search.validate("search").map_err(|error| as_config_error("search", error))?;
        self.selection.validate()?;
        self.model_update.as_ref().map_or(Ok(()), |update| update.validate(self.seed))
    }

    /// A prompted model reads BOS, the prompt and the first `len − 1` tokens of an evaluation sequence:
    /// `prompt + len` positions, which must fit `model.context` for every `[[eval.ood]]` length.
    fn validate_prompted_lengths(&self) -> Result<(), ConfigError> {
        let prompt = self
            .methods
            .configured()
            .iter()
            .map(|method| method.max_prompt_tokens(self.layout.prompt_max_len))
            .max()
            .unwrap_or(0);
        if prompt == 0 {
            return Ok(());
        }
        let context = self.model.context;
        for (i, entry) in self.eval.ood.iter().enumerate() {
            let len = entry.len.unwrap_or(self.layout.task_len);
            if len + prompt > context {
                return Err(ConfigError::new(
                    format!("eval.ood[{i}].len"),
                    len,
                    format!(
                        "allowed range 1..={}: a prompted model reads prompt + len positions, and the longest prompt \
                         of [methods] has {prompt} tokens, so prompt + len must fit model.context = {context}",
                        context - prompt
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The rules of `adaptbench search` beyond [`ExperimentConfig::validate`] (which `run` and `pretrain`
    /// configs need not meet, since they do not search): the neural predictor of `search` reads BOS, a prompt of up to `search.l_max` (exhaustive) or
    /// `search.local.max_len` (local) tokens and T − 1 task tokens: `prompt + search.task_len` positions, which
    /// must lie inside the positions pretraining covered (`pretrain.seq_len`, itself ≤ `model.context`;
    /// DESIGN.md §4).
    pub fn validate_search(&self) -> Result<(), ConfigError> {
        let search = &self.search;
        if !search.predictors.contains(&PredictorKind::Neural) {
            return Ok(());
        }
        let trained = self.pretrain.seq_len;
        for (key, len) in [("search.l_max", search.l_max), ("search.local.max_len", search.local.max_len)] {
            if len + search.task_len > trained {
                return Err(ConfigError::new(
                    key,
                    len,
                    format!(
                        "allowed range 0..={}: prompt + search.task_len = {len} + {} must not exceed the trained \
                         positions, pretrain.seq_len = {trained}",
                        trained.saturating_sub(search.task_len),
                        search.task_len
                    ),
                ));
            }
        }
        let longest = search.task_length_plan().l_maxes.into_iter().max().unwrap_or(search.l_max);
        if let Some(&t) = search.task_length.task_lens.iter().find(|&&t| longest + t > trained) {
            return Err(ConfigError::new(
                "search.task_length.task_lens",
                t,
                format!(
                    "each T ≤ {}: the longest reliability prompt + T = {longest} + {t} must not exceed the trained \
                     positions, pretrain.seq_len = {trained}",
                    trained.saturating_sub(longest)
                ),
            ));
        }
        Ok(())
    }
}

/// The name becomes a directory under `results/`: no separators, and no leading dot (".", "..").
fn validate_name(name: &str) -> Result<(), ConfigError> {
    let allowed = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !allowed || name.starts_with('.') || name.is_empty() {
        return Err(ConfigError::new(
            "name",
            format!("{name:?}"),
            "letters, digits, '-', '_' and '.', not starting with '.'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use adaptbench_adapt::MethodsConfig;
    use adaptbench_model::ModelConfig;
    use adaptbench_train::PretrainConfig;

    fn parse(text: &str) -> Result<ExperimentConfig, ConfigError> {
        let config = ExperimentConfig::parse(text, "x")
            .map_err(|message| ConfigError::Unreadable { path: "test.toml".into(), message })?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn an_empty_file_is_the_documented_defaults() {
        let config = parse("name = \"x\"").unwrap();
        assert_eq!(config.model, ModelConfig::default());
        assert_eq!(config.pretrain, PretrainConfig::default());
        assert_eq!(config.methods, MethodsConfig::default());
        assert_eq!(config.methods.configured().len(), 8, "every weight, prompt and representation method by default");
    }

    #[test]
    fn a_methods_table_enables_only_the_methods_it_names() {
        let config = parse("name = \"x\"\n[methods.lora]\nr = 2\n[methods.head]").unwrap();
        let names: Vec<&str> = config.methods.configured().iter().map(|m| m.name()).collect();
        assert_eq!(names, ["head", "lora"]);
    }

    #[test]
    fn bad_method_and_eval_values_name_their_keys() {
        for (text, key) in [
            ("[methods.lora]\nr = 0", "methods.lora.r = 0"),
            ("[methods.lora]\ndropout = 0.1", "methods.lora.dropout = 0.1"),
            ("[methods.lora]\ntargets = [\"q\", \"w\"]", "unknown variant `w`"),
            ("[eval]\nalphas = [0.5, 1.2]", "eval.alphas"),
            ("[eval]\nseeds = [1, 1]", "eval.seeds"),
            ("[[eval.ood]]\nname = \"task\"\nsource = { kind = \"bern\", p = 0.5 }", "eval.ood[0].name"),
            ("[[eval.ood]]\nname = \"long\"\nsource = { kind = \"bern\", p = 0.5 }\nlen = 65", "eval.ood[0].len = 65"),
            ("[task]\nsequences = 0", "task.sequences = 0"),
            ("[finetune]\nsteps = 0", "finetune.steps = 0"),
            // The default model: d_model 64, 2 blocks, context 64.
            ("[methods.reft]\nr = 65", "methods.reft.r = 65 is invalid: allowed range 1..=model.d_model = 64"),
            ("[methods.reft]\nlayers = [2]", "methods.reft.layers = [2] is invalid: distinct blocks in ascending order, each in 0..=1"),
            ("[methods.reft]\nlayers = [1, 0]", "methods.reft.layers = [1, 0]"),
            ("[methods.reft]\npositions = { last = 0 }", "methods.reft.positions = 0 is invalid: k in 1..=model.context = 64"),
            ("[methods.reft]\npositions = \"middle\"", "unknown variant `middle`"),
        ] {
            let message = parse(&format!("name = \"x\"\n{text}")).unwrap_err().to_string();
            assert!(message.contains(key), "{text}: {message}");
        }
    }

    #[test]
    fn the_resolved_config_parses_back_to_itself() {
        let config = parse("name = \"x\"\nseed = 3\n[model]\nd_model = 32").unwrap();
        assert_eq!(parse(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn a_name_that_would_escape_the_results_directory_is_rejected() {
        for name in ["..", "a/b", ".hidden"] {
            let message = parse(&format!("name = \"{name}\"")).unwrap_err().to_string();
            assert!(message.contains("name = "), "{message}");
        }
    }

    #[test]
    fn a_model_update_needs_another_seed_and_changes_only_the_seed_of_the_other_base() {
        let message = parse("name = \"x\"\nseed = 4\n[model_update]\nseed = 4").unwrap_err().to_string();
        assert!(message.contains("model_update.seed = 4") && message.contains("top-level seed (4)"), "{message}");
        let message = parse("name = \"x\"\n[model_update]\nsed = 1").unwrap_err().to_string();
        assert!(message.contains("unknown field `sed`"), "{message}");

        let config = parse("name = \"x\"\nseed = 4\n[model_update]\nseed = 9").unwrap();
        let update = config.model_update.clone().unwrap();
        let other = update.other_base_config(&config);
        assert_eq!((other.seed, other.model_update.clone()), (9, None));
        assert_eq!(ExperimentConfig { seed: 4, model_update: config.model_update.clone(), ..other }, config);
        assert_eq!(parse(&config.to_toml()).unwrap(), config, "the table survives config.resolved.toml");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let message = parse("name = \"x\"\n[pretrain]\nstepz = 3").unwrap_err().to_string();
        assert!(message.contains("unknown field `stepz`"), "{message}");
    }

    #[test]
    fn prompt_room_beyond_the_trained_positions_is_rejected() {
        let message = parse("name = \"x\"\n[layout]\nprompt_max_len = 16\ntask_len = 56").unwrap_err().to_string();
        assert!(message.contains("layout.prompt_max_len = 16") && message.contains("0..=8"), "{message}");
    }

    #[test]
    fn an_ood_length_a_prompted_model_cannot_read_is_rejected() {
        // context 24, a 2-token soft prompt: len 24 would make 26 positions.
        let base = "[model]\ncontext = 24\n[pretrain]\nseq_len = 24\n[layout]\nprompt_max_len = 2\ntask_len = 20\n";
        let ood = "[[eval.ood]]\nname = \"long\"\nsource = { kind = \"bern\", p = 0.5 }\nlen = 24\n";
        let error = parse(&format!("{base}[methods.soft_prompt]\nlength = 2\n{ood}")).unwrap_err();
        assert_eq!(error.key(), "eval.ood[0].len");
        assert!(error.to_string().contains("allowed range 1..=22"), "{error}");
        parse(&format!("{base}[methods.full]\n{ood}")).expect("a weight method reads len positions only");
        parse(&format!("{base}[methods.soft_prompt]\nlength = 2\n{}", ood.replace("len = 24", "len = 22"))).unwrap();
    }

    #[test]
    fn a_search_prompt_beyond_the_trained_positions_is_rejected() {
        // seq_len 40 < context 64: l_max 5 + task_len 50 is within the context but not the trained positions.
        let text = "[pretrain]\nseq_len = 40\n[layout]\nprompt_max_len = 0\ntask_len = 30\n[methods.full]\n[search]\nl_max = 5\ntask_len = 50\n";
        let config = parse(text).expect("valid for run and pretrain, which do not search");
        let error = config.validate_search().unwrap_err();
        assert_eq!(error.key(), "search.l_max");
        assert!(error.to_string().contains("pretrain.seq_len = 40"), "{error}");
        let bayes = parse(&format!("{text}predictors = [\"bayes\"]\n")).unwrap();
        bayes.validate_search().expect("the Bayes predictor has no positions");
    }
}

