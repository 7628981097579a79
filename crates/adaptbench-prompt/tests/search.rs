//! The prompt analysis against closed forms: the paper's Bayes landscape, brute-force enumeration, the count
//! of prompts an exhaustive search visits, and the guarantees of local search and reliability.

use std::sync::atomic::{AtomicUsize, Ordering};

use adaptbench_prompt::{
    all_prompts, efficiency, local_search, reliability, successive_halving, successive_halving_on, BayesPredictor,
    Exhaustive, HalvingPlan, HalvingRound, Landscape, LocalSearchPlan, Predictor, PromptError, PromptKind, Reference,
    ReliabilityPlan, ScoreMatrix,
};
use adaptbench_sources::{log_loss_bits, rng, Source, SourceSpec};

fn paper_pretraining() -> Box<dyn Source> {
    SourceSpec::Mix { thetas: vec![0.2, 0.7], weights: vec![0.5, 0.5] }.build().unwrap()
}

fn coin(p: f64) -> Box<dyn Source> {
    SourceSpec::Bern { p }.build().unwrap()
}

fn draw(source: &dyn Source, count: usize, len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut draws = rng(seed);
    (0..count).map(|_| source.sample(&mut draws, len).tokens).collect()
}

#[test]
fn the_paper_setting_makes_all_ones_optimal_with_a_tiny_kl() {
    // arXiv 2502.10760: pretraining mix([0.2, 0.7], [0.5, 0.5]), task bern(0.7), T = 50, L_max = 5.
    let predictor = BayesPredictor::new(paper_pretraining());
    let task = coin(0.7);
    let reference = Reference::new(task.as_ref(), 50, 0, 1);
    let data = draw(task.as_ref(), 64, 50, 2);
    let landscape = Landscape::measure(&predictor, &reference, 5, &data).unwrap();
    let best = landscape.optimum();
    assert_eq!(best.prompt, vec![1, 1, 1, 1, 1]);
    // KL ≈ 5.47e-5 bits per task token (the count-sum value tested in the sources crate).
    assert!((best.kl_bits - 5.47e-5).abs() < 0.01e-5, "{}", best.kl_bits);
    // The empty prompt pays the inference of θ: far more.
    assert!(landscape.entries[0].kl_bits > 10.0 * best.kl_bits);
    // Permutations share their exact loss, so they share their rank.
    for entry in &landscape.entries {
        let mut sorted = entry.prompt.clone();
        sorted.sort();
        let twin = landscape.entry(&sorted).unwrap();
        assert_eq!(entry.loss_bits, twin.loss_bits, "{:?} vs {:?}", entry.prompt, sorted);
        assert_eq!(entry.rank, twin.rank);
    }
}

/// Σ over all 2^T task sequences x of P_task(x) · (1/T) Σ_t ℓ(P_bayes(x_t | prompt, x_<t), x_t), by the
/// general sequential posterior of the pretraining source.
fn brute_force_loss(pretraining: &dyn Source, task_p: f64, prompt: &[u8], len: usize) -> f64 {
    (0..1u32 << len)
        .map(|code| {
            let x: Vec<u8> = (0..len).map(|t| ((code >> t) & 1) as u8).collect();
            let ones = x.iter().filter(|&&b| b == 1).count() as i32;
            let probability = task_p.powi(ones) * (1.0 - task_p).powi(len as i32 - ones);
            let joined: Vec<u8> = prompt.iter().chain(&x).copied().collect();
            let predictions = pretraining.bayes_predictions(&joined);
            let bits: f64 = x.iter().zip(&predictions[prompt.len()..]).map(|(&b, &p1)| log_loss_bits(p1, b)).sum();
            probability * bits / len as f64
        })
        .sum()
}

#[test]
fn the_exact_bayes_landscape_equals_brute_force_enumeration() {
    let pretraining = paper_pretraining();
    let predictor = BayesPredictor::new(paper_pretraining());
    for (task_p, len) in [(0.7, 6), (0.5, 8), (0.2, 5)] {
        let task = coin(task_p);
        let reference = Reference::new(task.as_ref(), len, 0, 1);
        let landscape = Landscape::measure(&predictor, &reference, 3, &draw(task.as_ref(), 4, len, 3)).unwrap();
        for entry in &landscape.entries {
            let brute = brute_force_loss(pretraining.as_ref(), task_p, &entry.prompt, len);
            assert!((entry.loss_bits - brute).abs() < 1e-12, "p={task_p} T={len} {:?}", entry.prompt);
        }
    }
}

/// A predictor that predicts ½ everywhere and counts the prompts and (prompt, sequence) pairs it is asked about;
/// it fits prompts of at most `limit` tokens.
#[derive(Default)]
struct Counting {
    prompts: AtomicUsize,
    pairs: AtomicUsize,
    limit: Option<usize>,
}

impl Predictor for Counting {
    fn kind(&self) -> adaptbench_prompt::PredictorKind {
        adaptbench_prompt::PredictorKind::Neural // a stand-in: it counts calls and scores every pair alike
    }
    fn score(&self, prompts: &[Vec<u8>], sequences: &[Vec<u8>]) -> Result<ScoreMatrix, PromptError> {
        self.prompts.fetch_add(prompts.len(), Ordering::Relaxed);
        self.pairs.fetch_add(prompts.len() * sequences.len(), Ordering::Relaxed);
        Ok(prompts.iter().map(|_| sequences.iter().map(|s| s.len() as f64).collect()).collect())
    }
    fn max_prompt_len(&self, _task_len: usize) -> Option<usize> {
        self.limit
    }
}

#[test]
fn exhaustive_search_scores_exactly_two_to_the_l_plus_one_minus_one_distinct_prompts() {
    for l_max in [0, 1, 4, 10] {
        let predictor = Counting::default();
        let exhaustive = Exhaustive::run(&predictor, l_max, &[vec![0, 1, 1]]).unwrap();
        let expected = (1 << (l_max + 1)) - 1;
        assert_eq!(predictor.prompts.load(Ordering::Relaxed), expected);
        let distinct: std::collections::HashSet<_> = exhaustive.prompts.iter().collect();
        assert_eq!(distinct.len(), expected);
        assert!(exhaustive.prompts.iter().all(|p| p.len() <= l_max));
        // A constant predictor leaves every prompt tied: the empty prompt wins the tie.
        assert_eq!(exhaustive.best(), 0);
    }
    assert_eq!(all_prompts(2), vec![vec![], vec![0], vec![1], vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]);
}

#[test]
fn local_search_never_returns_a_prompt_worse_than_its_start() {
    let predictor = BayesPredictor::new(paper_pretraining());
    let task = coin(0.7);
    for seed in 0..6 {
        let data = draw(task.as_ref(), 8, 20, seed);
        let mut starts = draw(task.as_ref(), 1, 4 + seed as usize, 100 + seed);
        starts.push(vec![0, 0, 0]);
        let start_losses = predictor.score(&starts, &data).unwrap();
        let start_best =
            start_losses.iter().map(|row| row.iter().sum::<f64>() / (8.0 * 20.0)).fold(f64::INFINITY, f64::min);
        for rounds in [0, 1, 3] {
            let plan = LocalSearchPlan { beam: 2, max_len: 12, rounds };
            let outcome = local_search(&predictor, &starts, &data, &plan).unwrap();
            assert!(outcome.empirical_loss_bits <= start_best + 1e-15, "seed {seed}, {rounds} rounds");
            let rescored = predictor.score(std::slice::from_ref(&outcome.prompt), &data).unwrap()[0].iter().sum::<f64>() / 160.0;
            assert!((rescored - outcome.empirical_loss_bits).abs() < 1e-12);
            assert!(outcome.prompt.len() <= 12);
        }
    }
}

#[test]
fn zero_rounds_of_local_search_return_the_best_start_unchanged() {
    let predictor = BayesPredictor::new(paper_pretraining());
    let data = draw(coin(0.7).as_ref(), 8, 20, 9);
    let start = vec![vec![1, 0, 1]];
    let outcome = local_search(&predictor, &start, &data, &LocalSearchPlan { beam: 3, max_len: 8, rounds: 0 }).unwrap();
    assert_eq!(outcome.prompt, start[0]);
    assert_eq!(outcome.evaluated, 1);
}

#[test]
fn reliability_is_certain_for_the_empty_search_and_for_an_infinite_tolerance() {
    let predictor = BayesPredictor::new(paper_pretraining());
    let task = coin(0.7);
    let reference = Reference::new(task.as_ref(), 10, 0, 1);
    let landscape = Landscape::measure(&predictor, &reference, 3, &draw(task.as_ref(), 4, 10, 5)).unwrap();
    let halving = HalvingPlan { eta: 2, min_sequences: 1 };
    let plan = ReliabilityPlan { ns: vec![1, 4], l_maxes: vec![0, 3], draws: 20, tolerance_bits: 0.0, halving };
    let points = reliability(&predictor, &landscape, task.as_ref(), 10, &plan, 7).unwrap();
    assert_eq!(points.len(), 4);
    // L_max = 0: the empty prompt is the only candidate, so every draw finds the optimum, by either search.
    assert!(points.iter().filter(|p| p.l_max == 0).all(|p| p.correct == p.draws && p.halving_correct == p.draws));
    let lenient = ReliabilityPlan { tolerance_bits: f64::INFINITY, ..plan.clone() };
    let points = reliability(&predictor, &landscape, task.as_ref(), 10, &lenient, 7).unwrap();
    assert!(points.iter().all(|p| p.proportion() == 1.0 && p.halving_correct == p.draws));
}

#[test]
fn halving_reliability_is_exhaustive_reliability_when_its_first_round_sees_all_of_d_n() {
    let predictor = BayesPredictor::new(paper_pretraining());
    let task = coin(0.5);
    let reference = Reference::new(task.as_ref(), 10, 0, 1);
    let landscape = Landscape::measure(&predictor, &reference, 4, &draw(task.as_ref(), 4, 10, 5)).unwrap();
    let single_round = HalvingPlan { eta: 2, min_sequences: 16 };
    let plan = ReliabilityPlan {
        ns: vec![1, 4, 16],
        l_maxes: vec![4],
        draws: 30,
        tolerance_bits: 1e-4,
        halving: single_round,
    };
    for point in reliability(&predictor, &landscape, task.as_ref(), 10, &plan, 3).unwrap() {
        assert_eq!(point.halving_correct, point.correct, "{point:?}");
        assert_eq!(point.halving_evaluations, 31 * point.n as u64, "one round scores all 31 prompts on all N");
    }
    // From one sequence: at N = 16, 31·1 + 16·1 + 8·2 + 4·4 + 2·8 = 95 pairs instead of 31·16 = 496.
    let from_one = ReliabilityPlan { halving: HalvingPlan { eta: 2, min_sequences: 1 }, ..plan };
    let points = reliability(&predictor, &landscape, task.as_ref(), 10, &from_one, 3).unwrap();
    assert_eq!(points.iter().find(|p| p.n == 16).unwrap().halving_evaluations, 95);
}

#[test]
fn optimal_prompts_are_at_least_as_good_as_typical_and_random_ones_at_every_length() {
    let predictor = BayesPredictor::new(paper_pretraining());
    let task = coin(0.7);
    let reference = Reference::new(task.as_ref(), 20, 0, 1);
    let landscape = Landscape::measure(&predictor, &reference, 4, &draw(task.as_ref(), 4, 20, 5)).unwrap();
    let points = efficiency(&landscape, task.as_ref(), 50, 3);
    assert_eq!(points.len(), 3 * 5);
    for length in 0..=4 {
        let at = |kind| points.iter().find(|p| p.kind == kind && p.length == length).unwrap().loss_bits;
        assert!(at(PromptKind::Optimal) <= at(PromptKind::Typical) + 1e-15);
        assert!(at(PromptKind::Optimal) <= at(PromptKind::Random) + 1e-15);
    }
    // Length 0 is the empty prompt for every kind.
    let empty: Vec<f64> = points.iter().filter(|p| p.length == 0).map(|p| p.loss_bits).collect();
    assert!(empty.iter().all(|&l| (l - empty[0]).abs() < 1e-12));
}

#[test]
fn successive_halving_scores_the_sum_over_rounds_of_survivors_times_new_sequences() {
    // K = 2047 (L_max = 10), N = 64, η = 2, n₀ = 4; rounds (|C_r|, n_r):
    // (2047, 4), (1024, 8), (512, 16), (256, 32), (128, 64) →
    // 2047·4 + 1024·4 + 512·8 + 256·16 + 128·32 = 8188 + 4·4096 = 24,572 pairs, against 2047·64 = 131,008.
    let predictor = Counting::default();
    let data = vec![vec![0, 1]; 64];
    let outcome = successive_halving(&predictor, 10, &data, &HalvingPlan { eta: 2, min_sequences: 4 }).unwrap();
    let rounds: Vec<HalvingRound> = [(2047, 4), (1024, 8), (512, 16), (256, 32), (128, 64)]
        .map(|(candidates, sequences)| HalvingRound { candidates, sequences })
        .to_vec();
    assert_eq!(outcome.rounds, rounds);
    assert_eq!(outcome.evaluations, 24_572);
    assert_eq!(outcome.exhaustive_evaluations, 131_008);
    assert_eq!(predictor.pairs.load(Ordering::Relaxed), 24_572);
    // All prompts tie under a constant predictor: the empty prompt wins, at 1 bit per token.
    assert_eq!((outcome.index, outcome.empirical_loss_bits), (0, 1.0));
}

#[test]
fn lazy_successive_halving_takes_the_decisions_simulated_on_the_exhaustive_scores() {
    let predictor = BayesPredictor::new(paper_pretraining());
    let data = draw(coin(0.7).as_ref(), 16, 10, 11);
    let exhaustive = Exhaustive::run(&predictor, 4, &data).unwrap();
    for (eta, min_sequences) in [(2, 1), (2, 4), (3, 2), (5, 3), (40, 1), (2, 16)] {
        let plan = HalvingPlan { eta, min_sequences };
        let lazy = successive_halving(&predictor, 4, &data, &plan).unwrap();
        assert_eq!(lazy, successive_halving_on(&exhaustive, 31, 0..16, &plan), "η = {eta}, n₀ = {min_sequences}");
        assert_eq!(lazy.prompt, exhaustive.prompts[lazy.index]);
        assert!((lazy.empirical_loss_bits - exhaustive.empirical_bits(lazy.index)).abs() < 1e-12);
        assert!(lazy.empirical_loss_bits >= exhaustive.empirical_bits(exhaustive.best()) - 1e-12);
        assert_eq!(lazy.exhaustive_evaluations, 31 * 16);
    }
    // A first round on all 16 sequences is exhaustive search itself.
    let single = successive_halving(&predictor, 4, &data, &HalvingPlan { eta: 2, min_sequences: 16 }).unwrap();
    assert_eq!(single.index, exhaustive.best());
    assert_eq!(single.rounds, vec![HalvingRound { candidates: 31, sequences: 16 }]);
    assert_eq!(single.evaluations, single.exhaustive_evaluations);
}

#[test]
fn successive_halving_rejects_an_l_max_the_predictor_cannot_fit() {
    let predictor = Counting { limit: Some(3), ..Counting::default() };
    let plan = HalvingPlan { eta: 2, min_sequences: 1 };
    let message = successive_halving(&predictor, 4, &[vec![0, 1]], &plan).unwrap_err().to_string();
    assert!(message.starts_with("search.l_max = 4 is invalid"), "{message}");
    assert_eq!(predictor.pairs.load(Ordering::Relaxed), 0);
}
