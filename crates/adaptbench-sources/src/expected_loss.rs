//! Exact expected loss of an exchangeable predictor on an exchangeable task, by summing over counts instead
//! of sampling. This makes the prompt landscape of the Bayes predictor exact: a prompt acts only through its
//! counts (n0, n1), and the task's count process is a Markov chain over (t, ones so far).

use crate::{log_loss_bits, Exchangeable};

/// Loss in bits per task token of `predictor`, prompted with a prompt of `prompt_counts` = (n0, n1), on
/// sequences of `task_len` = T tokens from `task`:
///
/// ```text
/// L = (1/T) Σ_{t<T} E_task[ −log2 q(x_t | n0 + z_t, n1 + k_t) ]
/// ```
///
/// where k_t and z_t = t − k_t are the ones and zeros among the task's x_<t and q is `predictor`'s
/// predictive. Exact, O(T²): a dynamic programme over the task's count states,
///
/// ```text
/// P_0[0] = 1,  P_{t+1}[k+1] += P_t[k] · p,  P_{t+1}[k] += P_t[k] · (1 − p),  p = task.predict_counts(t − k, k),
/// loss_t = Σ_k P_t[k] · (p · ℓ(q, 1) + (1 − p) · ℓ(q, 0)),  q = predictor.predict_counts(n0 + t − k, n1 + k),
/// ```
///
/// with ℓ = [`log_loss_bits`].
///
/// The task is scored on its own tokens only (never the prompt's); its Bayes floor is
/// `expected_loss_bits(task, (0, 0), task, T)`, and the excess over it is the mean over task tokens of
/// E[KL(task predictive ‖ prompted predictor)]. A task of length 0 has no tokens to score and returns 0.
pub fn expected_loss_bits(
    predictor: &dyn Exchangeable,
    prompt_counts: (u64, u64),
    task: &dyn Exchangeable,
    task_len: usize,
) -> f64 {
    if task_len == 0 {
        return 0.0;
    }
    let (prompt_n0, prompt_n1) = prompt_counts;
    // state[k] = P(k ones among the first t task tokens).
    let mut state = vec![1.0];
    let mut total = 0.0;
    for t in 0..task_len {
        let mut next = vec![0.0; t + 2];
        for (k, &mass) in state.iter().enumerate() {
            let (zeros, ones) = ((t - k) as u64, k as u64);
            let p = task.predict_counts(zeros, ones);
            let q = predictor.predict_counts(prompt_n0 + zeros, prompt_n1 + ones);
            total += mass * (p * log_loss_bits(q, 1) + (1.0 - p) * log_loss_bits(q, 0));
            next[k + 1] += mass * p;
            next[k] += mass * (1.0 - p);
        }
        state = next;
    }
    total / task_len as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::all_sequences;
    use crate::{binary_entropy_bits, Bern, BetaBernoulli, Mix};

    /// The same expectation by enumerating all 2^T task sequences: Σ_x P_task(x) · (1/T) Σ_t ℓ(q_t, x_t).
    fn brute_force(
        predictor: &dyn Exchangeable,
        prompt: (u64, u64),
        task: &dyn Exchangeable,
        len: usize,
    ) -> f64 {
        all_sequences(len)
            .map(|seq| {
                let (mut n0, mut n1, mut prob, mut loss) = (0, 0, 1.0, 0.0);
                for &x in &seq {
                    let p = task.predict_counts(n0, n1);
                    let q = predictor.predict_counts(prompt.0 + n0, prompt.1 + n1);
                    prob *= if x == 1 { p } else { 1.0 - p };
                    loss += log_loss_bits(q, x);
                    if x == 1 {
                        n1 += 1;
                    } else {
                        n0 += 1;
                    }
                }
                prob * loss / len as f64
            })
            .sum()
    }

    fn paper_mix() -> Mix {
        Mix::new(vec![0.2, 0.7], vec![0.5, 0.5]).expect("valid")
    }

    #[test]
    fn expected_loss_equals_brute_force_enumeration() {
        let mix = paper_mix();
        let kt = BetaBernoulli::kt();
        let skewed = BetaBernoulli::new(2.0, 0.5).expect("valid");
        let coin = Bern::new(0.7).expect("valid");
        let three = Mix::new(vec![0.1, 0.5, 0.9], vec![0.2, 0.5, 0.3]).expect("valid");
        let pairs: [(&dyn Exchangeable, &dyn Exchangeable); 6] = [
            (&mix, &coin),
            (&kt, &mix),
            (&mix, &skewed),
            (&coin, &kt),
            (&three, &mix),
            (&mix, &mix),
        ];
        for (predictor, task) in pairs {
            for prompt in [(0, 0), (2, 3), (0, 5), (4, 0)] {
                for len in [1, 4, 10] {
                    let exact = expected_loss_bits(predictor, prompt, task, len);
                    let brute = brute_force(predictor, prompt, task, len);
                    assert!(
                        (exact - brute).abs() < 1e-10,
                        "prompt {prompt:?}, T={len}: {exact} vs {brute}"
                    );
                }
            }
        }
    }

    #[test]
    fn bayes_floor_of_bern_is_its_binary_entropy() {
        for p in [0.1, 0.5, 0.7] {
            let coin = Bern::new(p).expect("valid");
            for len in [1, 7, 50, 300] {
                let floor = expected_loss_bits(&coin, (0, 0), &coin, len);
                assert!(
                    (floor - binary_entropy_bits(p)).abs() < 1e-12,
                    "p={p}, T={len}: {floor}"
                );
            }
        }
    }

    #[test]
    fn expected_loss_of_an_empty_task_is_zero() {
        let coin = Bern::new(0.7).expect("valid");
        assert_eq!(expected_loss_bits(&coin, (3, 1), &coin, 0), 0.0);
    }

    #[test]
    fn prompt_11111_brings_the_mixture_within_6e_minus_5_bits_of_a_07_coin() {
        // The headline number of "Why is prompting hard?" (arXiv 2502.10760): prompting the {0.2, 0.7}
        // mixture with 11111 sets the posterior on 0.7 to 0.7^5 / (0.7^5 + 0.2^5) ≈ 0.99810, and the
        // remaining excess on a T = 50 bern(0.7) task is ≈ 5.5e-5 bits per task token.
        let (mix, task) = (paper_mix(), Bern::new(0.7).expect("valid"));
        let excess = expected_loss_bits(&mix, (0, 5), &task, 50) - binary_entropy_bits(0.7);
        println!("KL(bern(0.7) ‖ mix | prompt 11111), T = 50: {excess:.3e} bits per task token");
        assert!((4.5e-5..=6.5e-5).contains(&excess), "{excess}");
    }

    #[test]
    fn prompt_11111_is_the_best_prompt_of_length_at_most_five() {
        let (mix, task) = (paper_mix(), Bern::new(0.7).expect("valid"));
        let best = expected_loss_bits(&mix, (0, 5), &task, 50);
        for n in 0..=5u64 {
            for n1 in 0..=n {
                if (n - n1, n1) != (0, 5) {
                    let loss = expected_loss_bits(&mix, (n - n1, n1), &task, 50);
                    assert!(
                        loss > best,
                        "(n0, n1) = ({}, {n1}): {loss} ≤ {best}",
                        n - n1
                    );
                }
            }
        }
    }
}
