//! The prompt methods keep their promises: an empty prompt (a soft prompt of length 0, a search over the empty
//! prompt only) is the base bit for bit; a hard prompt is exactly the base reading those tokens; soft prompts
//! train their prompt and nothing else; the fast engine agrees with burn on prompted losses.

mod common;

use common::{adapt, short_budget, task_data, weights};

use adaptbench_adapt::{
    parameter_paths, HardPromptConfig, MethodConfig, SoftPromptConfig, SoftPromptInit, SoftPromptSpace,
    TaskData,
};
use adaptbench_model::{freeze, Prompt, Network, ModelConfig, BOS};
use adaptbench_prompt::{HalvingConfig, NeuralPredictor, Predictor};
use adaptbench_train::mean_loss_bits;
use burn::tensor::{Device, Int, Tensor, TensorData};

fn small() -> ModelConfig {
    ModelConfig { d_model: 16, n_layers: 2, n_heads: 2, context: 20, ..Default::default() }
}

fn logits(model: &Network, ids: Vec<i64>, rows: usize, device: &Device) -> Vec<f32> {
    let seq = ids.len() / rows;
    model
        .forward(Tensor::<2, Int>::from_data(TensorData::new(ids, [rows, seq]), device))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

const INPUTS: [i64; 16] = [2, 1, 1, 0, 1, 0, 1, 1, 2, 0, 0, 1, 1, 1, 0, 1];


#[test]
fn an_empty_prompt_leaves_the_base_unchanged_bit_for_bit() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 1);
    let reference = logits(&base, INPUTS.to_vec(), 2, &device);
    let soft = adapt(&MethodConfig::SoftPrompt(SoftPromptConfig { length: 0, ..Default::default() }), &base, &device);
    // A search over prompts of length ≤ 0 has only the empty prompt to return.
    let hard = adapt(&MethodConfig::HardPrompt(HardPromptConfig { l_max: Some(0), ..Default::default() }), &base, &device);
    for adapted in [soft, hard] {
        assert!(adapted.model.prompt.is_none());
        assert_eq!((adapted.trainable_params, adapted.prompt_tokens), (0, 0));
        assert_eq!(logits(&adapted.model, INPUTS.to_vec(), 2, &device), reference);
    }
}

#[test]
fn a_hard_prompt_is_the_base_reading_the_prompt_tokens() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 2);
    let bits = [1u8, 0, 1];
    let mut prompted = base.clone();
    prompted.prompt = Some(Prompt::hard(&bits, &device));
    let task: Vec<i64> = INPUTS[..8].to_vec(); // BOS, x_1..x_7
    let through_prompt = logits(&prompted, task.clone(), 1, &device);
    let mut explicit = vec![BOS as i64];
    explicit.extend(bits.iter().map(|&b| b as i64));
    explicit.extend(&task[1..]);
    let explicit = logits(&base, explicit, 1, &device);
    // Drop the outputs at BOS and the first two prompt tokens: the last prompt token predicts x_1.
    assert_eq!(through_prompt, explicit[2 * bits.len()..]);
}

#[test]
fn the_engine_scores_prompted_sequences_as_burn_does() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 4);
    let data = task_data().train;
    let predictor = NeuralPredictor::new(freeze(&base));
    for bits in [vec![], vec![0u8], vec![1, 1, 0, 1]] {
        let mut prompted = base.clone();
        prompted.prompt = (!bits.is_empty()).then(|| Prompt::hard(&bits, &device));
        let burn_bits = mean_loss_bits(&prompted, &data, 16, &device);
        let engine = predictor.score(std::slice::from_ref(&bits), &data).unwrap();
        let engine_bits = engine[0].iter().sum::<f64>() / (data.len() * 12) as f64;
        assert!(
            (burn_bits - engine_bits).abs() < 1e-5 * burn_bits,
            "{bits:?}: burn {burn_bits} vs engine {engine_bits}"
        );
    }
}

#[test]
fn halving_from_all_of_d_n_picks_the_exhaustive_prompt_and_says_it_was_halving() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 5);
    let exact = MethodConfig::HardPrompt(HardPromptConfig { l_max: Some(4), ..Default::default() });
    // task_data() holds 16 sequences: a first round on 16 is the exhaustive search on all of D_N.
    let halving = |min_sequences| {
        let halving = Some(HalvingConfig { eta: 2, min_sequences });
        MethodConfig::HardPrompt(HardPromptConfig { l_max: Some(4), halving, ..Default::default() })
    };
    let prompt = |method: &MethodConfig| adapt(method, &base, &device).model.prompt.map(|p| p.weights.val().into_data());
    assert_eq!(prompt(&halving(16)), prompt(&exact));
    assert_eq!(halving(1).params(8), "l_max=4;search=halving;eta=2;min_sequences=1");
    assert_eq!(exact.params(8), "l_max=4");
    let adapted = adapt(&halving(1), &base, &device);
    assert_eq!((adapted.steps, adapted.trainable_params), (31, 0), "31 prompts of length ≤ 4 considered");
}

#[test]
fn the_hard_prompt_search_never_reads_the_validation_split_its_alpha_is_chosen_on() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 6);
    let method = MethodConfig::HardPrompt(HardPromptConfig { l_max: Some(4), ..Default::default() });
    let train = task_data().train[..8].to_vec();
    let prompt = |validation: Vec<Vec<u8>>| {
        let data = TaskData { train: train.clone(), validation };
        method.adapt(&base, &data, &short_budget(), 3, 8, &device).unwrap().model.prompt.map(|p| p.weights.val().into_data())
    };
    // All ones or all zeros held out: either would pull the search towards its own prompt if it were read.
    let reference = prompt(Vec::new());
    assert_eq!(prompt(vec![vec![1; 12]; 8]), reference);
    assert_eq!(prompt(vec![vec![0; 12]; 8]), reference);
}

#[test]
fn a_soft_prompt_trains_its_weights_and_nothing_else() {
    let device = Device::flex();
    let base = small().init_seeded(&device, 5);
    let d = small().d_model;
    for (space, init, expected) in [
        (SoftPromptSpace::Embeddings, SoftPromptInit::Tokens, 3 * d),
        (SoftPromptSpace::Embeddings, SoftPromptInit::Random, 3 * d),
        (SoftPromptSpace::TokenWeights, SoftPromptInit::Tokens, 3 * 3),
        (SoftPromptSpace::TokenSimplex, SoftPromptInit::Random, 3 * 3),
    ] {
        let config = SoftPromptConfig { length: 3, space, init, lr: 1e-2 };
        let untrained = config.attach(&base, 3, &device);
        let adapted = adapt(&MethodConfig::SoftPrompt(config), &base, &device);
        assert_eq!((adapted.trainable_params, adapted.prompt_tokens), (expected, 3), "{space:?}");
        let (before, after) = (weights(&untrained), weights(&adapted.model));
        assert_eq!(before.len(), parameter_paths(&base).len() + 1);
        for ((path, old), (_, new)) in before.iter().zip(&after) {
            if path == "prompt.weights" {
                assert_ne!(old, new, "{space:?}: the prompt must move");
            } else {
                assert_eq!(old, new, "{space:?}: {path} is frozen");
            }
        }
    }
}

#[test]
fn transplanting_to_the_same_base_is_the_identity_and_a_prompt_moves_as_tokens() {
    use adaptbench_adapt::{transplant, FullConfig};
    let device = Device::flex();
    let (base_a, base_b) = (small().init_seeded(&device, 6), small().init_seeded(&device, 7));
    let full = adapt(&MethodConfig::Full(FullConfig::default()), &base_a, &device);
    let same = transplant(&base_a, &full.model, &base_a).unwrap();
    assert_eq!(weights(&same), weights(&full.model), "θ_A + (θ_ft − θ_A) = θ_ft bit for bit");
    let mut prompted = base_a.clone();
    prompted.prompt = Some(Prompt::hard(&[1, 0], &device));
    let moved = transplant(&base_a, &prompted, &base_b).unwrap();
    let mut expected = base_b.clone();
    expected.prompt = Some(Prompt::hard(&[1, 0], &device));
    assert_eq!(logits(&moved, INPUTS.to_vec(), 2, &device), logits(&expected, INPUTS.to_vec(), 2, &device));
}
